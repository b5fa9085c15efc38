import numpy as np
import pytest
import torch

from playground.capabilities import lab2d
from playground.data import toy2d
from playground.errors import PlaygroundError


def test_toy_data_and_coverage_metric():
    g = torch.Generator().manual_seed(0)
    for name in toy2d.STD:
        pts = toy2d.sample(name, 500, g)
        assert pts.shape == (500, 2) and pts.abs().max() < 1.6
    real = toy2d.sample("ring", 2000, g)
    assert toy2d.coverage(real, "ring") == {"modes_covered": 8, "modes_total": 8,
                                            "high_quality": pytest.approx(1.0, abs=0.01)}
    one_mode = toy2d.modes("ring")[:1].repeat(100, 1)
    assert toy2d.coverage(one_mode, "ring")["modes_covered"] == 1
    assert toy2d.coverage(real, "grid")["modes_total"] == 25
    with pytest.raises(PlaygroundError):
        toy2d.sample("torus", 5, g)


def test_frame_contents():
    frames = list(lab2d.run(lab2d.LabConfig(loss="hinge", steps=20, frame_every=10)))
    assert [f.step for f in frames] == [0, 10, 20]
    f = frames[-1]
    assert f.surface.shape == (lab2d.GRID, lab2d.GRID)
    assert f.arrows[0].shape == f.arrows[1].shape == (lab2d.ARROWS ** 2, 2)
    assert np.isfinite(f.fake).all() and "D/loss" in f.scalars


@pytest.mark.slow
def test_ns_collapses_on_the_ring_while_wgan_gp_covers_all_modes():
    """The notes' story, with the lab's default settings and a fixed seed."""
    torch.set_num_threads(2)
    covered, said = {}, {}
    for loss in ("non-saturating", "wgan-gp"):
        frames = list(lab2d.run(lab2d.LabConfig(dataset="ring", loss=loss, steps=1500, seed=0, frame_every=150)))
        covered[loss], said[loss] = frames[-1].coverage["modes_covered"], frames[-1].diagnoses
    assert covered["wgan-gp"] == 8, covered
    assert covered["non-saturating"] <= 3, covered
    # the run that collapses is diagnosed as such; the healthy one of the same length is not
    assert any(m.startswith("mode collapse: the samples cover") and " of 8 modes (their spread is 0." in m
               for m in said["non-saturating"]), said
    assert said["wgan-gp"] == (), said


def test_a_lab_request_never_touches_the_process_rng(monkeypatch):
    """Requests run in server threads side by side: seeding must use a private generator."""
    torch.manual_seed(123)
    before = torch.random.get_rng_state()

    def refuse(*_):
        raise AssertionError("the lab reseeded the process-wide RNG")

    monkeypatch.setattr(torch, "manual_seed", refuse)
    monkeypatch.setattr(torch.random, "manual_seed", refuse)
    a = list(lab2d.run(lab2d.LabConfig(loss="wgan-gp", steps=10, frame_every=10, seed=4)))
    b = list(lab2d.run(lab2d.LabConfig(loss="wgan-gp", steps=10, frame_every=10, seed=4)))
    assert torch.equal(torch.random.get_rng_state(), before)           # nothing drawn either
    assert np.array_equal(a[-1].fake, b[-1].fake)                        # and still reproducible
    c = list(lab2d.run(lab2d.LabConfig(loss="wgan-gp", steps=10, frame_every=10, seed=5)))
    assert not np.array_equal(a[-1].fake, c[-1].fake)
