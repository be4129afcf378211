"""The offline demo's synthetic data, in the real formats and read through the real code: a COCO
2017 mirror (coco) and copies of MNIST, Fashion-MNIST and CIFAR-10 (torchvision_data)."""
