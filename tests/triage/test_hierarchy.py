"""Combining the category (B) and vector (C) models."""

from __future__ import annotations

import numpy as np

from amparo.triage.hierarchy import Combination

B = ["1. threats", "2. derogation"]
C = ["1.1 threats of harm", "2.1 descriptive attacks", "2.2 aggressive attacks"]


def test_no_combination_changes_nothing() -> None:
    pb = np.array([[0.7, 0.3]])
    pc = np.array([[0.2, 0.5, 0.3]])
    b, c = Combination().apply(pb, pc, B, C)
    assert np.allclose(b, pb) and np.allclose(c, pc)


def test_b_hears_c_and_c_hears_b_and_rare_vectors_get_their_chance() -> None:
    pb = np.array([[0.55, 0.45]])
    pc = np.array([[0.1, 0.5, 0.4]])  # C: derogation, by 0.9 to 0.1
    b, _ = Combination(b_c_weight=0.5).apply(pb, pc, B, C)
    assert b.argmax() == 1 and np.isclose(b.sum(), 1.0)  # 0.5*0.45 + 0.5*0.9 wins
    _, c = Combination(c_group_power=4.0).apply(np.array([[0.99, 0.01]]), pc, B, C)
    assert C[int(c.argmax())] == "1.1 threats of harm"  # B is sure it is a threat
    share = {
        "1.1 threats of harm": 0.1,
        "2.1 descriptive attacks": 0.6,
        "2.2 aggressive attacks": 0.3,
    }
    _, c = Combination(c_prior_power=1.0, c_train_share=share).apply(pb, pc, B, C)
    assert C[int(c.argmax())] == "2.2 aggressive attacks" and np.isclose(c.sum(), 1.0)


def test_the_linear_model_is_mixed_in_by_its_share() -> None:
    pb = np.array([[0.6, 0.4]])
    pc = np.array([[0.6, 0.2, 0.2]])
    linear = {"B": np.array([[0.0, 1.0]]), "C": np.array([[0.0, 0.0, 1.0]])}
    b, c = Combination(b_linear=0.5, c_linear=0.5).apply(pb, pc, B, C, linear)
    assert np.allclose(b, [[0.3, 0.7]]) and np.allclose(c, [[0.3, 0.1, 0.6]])
    same = Combination().apply(pb, pc, B, C, linear)
    assert np.allclose(same[0], pb) and np.allclose(same[1], pc)
