"""Text for the text-guided kind (TediGAN): the frozen sentence encoder and the captions we can
honestly write for Fashion-MNIST images (label + measured attributes)."""
