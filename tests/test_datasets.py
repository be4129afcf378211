"""Tests for ArrayDataset's class selection and seeded val split."""

import numpy as np
import pytest

from visionrepro.data.datasets import ArrayDataset


def test_select_classes_relabels_in_the_given_order() -> None:
    images = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1)
    data = ArrayDataset(images, np.array([0, 1, 2, 1, 0, 2]), np.arange(6) + 10, ("a", "b", "c"))
    horses = data.select_classes(["c", "a"])
    np.testing.assert_array_equal(horses.ids, [10, 12, 14, 15])
    np.testing.assert_array_equal(horses.labels, [1, 0, 1, 0])
    assert horses.classes == ("c", "a")
    with pytest.raises(ValueError, match="'zebra'"):
        data.select_classes(["zebra"])


def test_split_is_seeded_disjoint_and_keeps_the_order() -> None:
    images = np.zeros((50, 1, 2, 2), dtype=np.uint8)
    data = ArrayDataset(images, np.arange(50) % 5, np.arange(50), tuple("abcde"))
    train, val = data.split(0.2, seed=0)
    assert (len(train), len(val)) == (40, 10)
    assert sorted([*train.ids, *val.ids]) == list(range(50))
    assert list(val.ids) == sorted(val.ids)
    again = data.split(0.2, seed=0)[1]
    np.testing.assert_array_equal(again.ids, val.ids)
    assert not np.array_equal(data.split(0.2, seed=1)[1].ids, val.ids)
