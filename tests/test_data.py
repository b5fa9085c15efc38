import numpy as np
import pytest
import torch
from PIL import Image

from playground.data import load_dataset
from playground.data.augment import diff_augment, parse_policy
from playground.data.idx import read_idx
from playground.errors import PlaygroundError

from conftest import make_digits, write_idx


def test_idx_roundtrip_plain_and_gz(tmp_path):
    x, y = make_digits(12)
    write_idx(tmp_path / "a", x)
    write_idx(tmp_path / "b.gz", y, gz=True)
    assert np.array_equal(read_idx(tmp_path / "a"), x)
    assert np.array_equal(read_idx(tmp_path / "b.gz"), y)


def test_idx_rejects_bad_magic_and_truncation(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(PlaygroundError, match="bad magic"):
        read_idx(tmp_path / "bad")
    x, _ = make_digits(4)
    write_idx(tmp_path / "t", x)
    (tmp_path / "t").write_bytes((tmp_path / "t").read_bytes()[:-10])
    with pytest.raises(PlaygroundError, match="truncated"):
        read_idx(tmp_path / "t")


def test_mnist_from_folder_is_uint8_in_memory(idx_dir):
    ds = load_dataset("mnist", "train", data_dir=str(idx_dir))
    assert ds.images.dtype == torch.uint8 and ds.images.shape == (256, 1, 28, 28)
    assert ds.labels.dtype == torch.int64 and ds.num_classes == 10
    test = load_dataset("mnist", "test", data_dir=str(idx_dir))
    assert len(test) == 64


def test_class_subset(idx_dir):
    ds = load_dataset("mnist:3,7", "train", data_dir=str(idx_dir))
    assert set(ds.labels.tolist()) == {3, 7}
    with pytest.raises(PlaygroundError, match="out of range"):
        load_dataset("mnist:12", "train", data_dir=str(idx_dir))


def test_missing_dataset_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path / "cache"))
    with pytest.raises(PlaygroundError) as e:
        load_dataset("mnist", "train", data_dir=str(tmp_path / "nowhere"))
    msg = str(e.value)
    assert "nowhere" in msg and "cache" in msg and "--data-dir" in msg and "mnist5k" in msg


def test_unknown_dataset():
    with pytest.raises(PlaygroundError, match="unknown dataset"):
        load_dataset("cifar1000")


def test_mnist5k_offline_split():
    train, test = load_dataset("mnist5k", "train"), load_dataset("mnist5k", "test")
    assert len(train) == 4500 and len(test) == 500
    assert torch.bincount(test.labels).tolist() == [50] * 10


def test_fashion_from_debian_package():
    ds = load_dataset("fashion", "test")
    assert ds.images.shape == (10000, 1, 28, 28) and ds.class_names[9] == "Ankle boot"


def test_folder_with_class_subfolders(tmp_path):
    for cls, value in (("cats", 30), ("dogs", 220)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((40, 50, 3), value, np.uint8)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "cats" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(PlaygroundError, match="broken.png"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "cats" / "broken.png").unlink()
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.images.shape == (6, 3, 32, 32) and ds.class_names == ["cats", "dogs"]
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_diffaugment_shapes_and_reproducible():
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    policy = parse_policy("translation,cutout,brightness")
    a = diff_augment(x, policy, torch.Generator().manual_seed(0))
    b = diff_augment(x, policy, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)
    with pytest.raises(ValueError):
        parse_policy("rotate")


def test_diffaugment_is_differentiable():
    x = torch.rand(4, 1, 28, 28, requires_grad=True)
    diff_augment(x, parse_policy("translation,cutout,brightness"), torch.Generator().manual_seed(1)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
