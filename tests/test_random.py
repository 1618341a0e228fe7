"""The counter-based generator: bit-exact against a pure-Python reference, right distributions, and numbers
that depend only on (seed, stream, step, index), never on the batch, the cache or the order of requests.

Distribution tests use a fixed generator, so they are deterministic; each threshold is a test at a stated
false-alarm rate (5 standard errors: about 6e-7 two-sided; goodness-of-fit tests at 1e-4) that a correct
generator would trip that rarely over its seeds.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import torch
from scipy import stats as scipy_stats

from theory.random import Gen, seed_block, stream_key

M32 = 0xFFFFFFFF
SEEDS = [0, 1, 12345, 2**32 - 1, 2**32, 2**40 + 7, -1, -(2**35) + 3]


def mix(x: int) -> int:
    """lowbias32 (Chris Wellons' hash-prospector), on Python integers."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    return x ^ (x >> 16)


def reference_bits(seed: int, stream: str, t: int, index: int, count: int) -> int:
    seed_key = mix((seed & M32) ^ mix(((seed >> 32) & M32) + 0x9E3779B9))
    counter = t * count + index
    per_counter = mix((counter & M32) ^ mix(((counter >> 32) & M32) ^ zlib.crc32(stream.encode())))
    return mix(seed_key ^ per_counter)


def reference_uniform(seed: int, stream: str, t: int, index: int, count: int) -> float:
    return (reference_bits(seed, stream, t, index, count) + 0.5) / 2.0**32


def test_stream_key_is_crc32():
    assert stream_key("reward") == zlib.crc32(b"reward")


@pytest.mark.parametrize("t", [0, 1, 77, 1000, 2**31 + 5])  # the last makes t * count exceed 32 bits
def test_uniform_matches_the_reference_hash_bit_for_bit(t):
    gen = Gen(SEEDS)
    values = gen.uniform("reward", t, 2, 3)
    assert values.shape == (len(SEEDS), 2, 3) and values.dtype == torch.float64
    expected = [[reference_uniform(seed, "reward", t, i, 6) for i in range(6)] for seed in SEEDS]
    assert values.reshape(len(SEEDS), 6).tolist() == expected


def test_normal_is_box_muller_of_two_reference_streams():
    gen = Gen(SEEDS)
    values = gen.normal("noise", 9, 4)
    for row, seed in enumerate(SEEDS):
        for i in range(4):
            u1 = reference_uniform(seed, "noise#r", 9, i, 4)
            u2 = reference_uniform(seed, "noise#a", 9, i, 4)
            expected = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
            assert float(values[row, i]) == pytest.approx(expected, rel=1e-12, abs=1e-12)


# --- distributions ------------------------------------------------------------------------------------------


def test_uniforms_lie_in_the_open_unit_interval_with_the_right_moments():
    values = Gen(list(range(1000))).uniform("u", 3, 1000).numpy().ravel()  # 10**6 draws
    n = values.size
    assert 0.0 < values.min() and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    # sd of the sample variance of U(0,1): sqrt((1/80 - 1/144) / n)
    assert abs(values.var() - 1 / 12) < 5 * math.sqrt((1 / 80 - 1 / 144) / n)
    assert scipy_stats.kstest(values[:100_000], "uniform").pvalue > 1e-4


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bits", [0, M32])
def test_extreme_bits_stay_inside_the_open_interval(monkeypatch, dtype, bits):
    # The smallest and largest 32-bit hashes must map strictly inside (0, 1) in every dtype (float32 rounds
    # (2**32 - 0.5) / 2**32 to 1.0 unless guarded), so log(u) and u < p behave at the extremes.
    monkeypatch.setattr(Gen, "_bits", lambda self, key, steps, count:
                        torch.full((self.batch, len(steps), count), bits, dtype=torch.int64))
    gen = Gen([1, 2])
    u = gen.uniform("x", 0, 3, dtype=dtype)
    assert torch.all(u > 0) and torch.all(u < 1)
    assert torch.isfinite(gen.normal("y", 0, 3, dtype=dtype)).all()
    probs = torch.tensor([[0.5, 0.5, 0.0]] * 2, dtype=dtype)
    assert gen.categorical("c", 0, probs).tolist() != [2, 2]  # never the category of probability 0


def test_normal_moments_and_shape():
    values = Gen(list(range(500))).normal("z", 0, 2000).numpy().ravel()  # 10**6 draws
    n = values.size
    assert abs(values.mean()) < 5 / math.sqrt(n)
    assert abs(values.var() - 1.0) < 5 * math.sqrt(2 / n)
    assert scipy_stats.kstest(values[:100_000], "norm").pvalue > 1e-4
    # Box-Muller from 32-bit uniforms is truncated near 6.6 sd, but nothing in the bulk is missing
    assert np.abs(values).max() < 6.7 and (np.abs(values) > 4).mean() == pytest.approx(6.3e-5, abs=3e-5)


@pytest.mark.parametrize("a, b", [(2.0, 5.0), (1.0, 1.0), (30.0, 3.0)])
def test_beta_mean_and_distribution(a, b):
    gen = Gen(list(range(1000)))
    draws = gen.beta("beta", 4, torch.full((1000, 10), a), torch.full((1000, 10), b)).numpy().ravel()
    n = draws.size
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(draws.mean() - mean) < 5 * math.sqrt(var / n)
    assert 0 < draws.min() and draws.max() < 1
    assert scipy_stats.kstest(draws, "beta", args=(a, b)).pvalue > 1e-4


def test_gamma_mean_and_variance():
    draws = Gen(list(range(1000))).gamma("g", 0, torch.full((1000, 10), 3.0)).numpy().ravel()
    assert abs(draws.mean() - 3.0) < 5 * math.sqrt(3.0 / draws.size)
    assert scipy_stats.kstest(draws, "gamma", args=(3.0,)).pvalue > 1e-4


@pytest.mark.parametrize("weights", [[0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0], [0.5, 0.0, 0.25, 0.25]])
def test_categorical_frequencies_match_the_probabilities(weights):
    """Chi-square goodness of fit over 2000 seeds x 25 steps: a correct sampler fails it with probability
    1e-4."""
    seeds, steps = 2000, 25
    gen = Gen(list(range(seeds)))
    probs = torch.tensor(weights).repeat(seeds, 1)
    draws = torch.cat([gen.categorical("arm", t, probs) for t in range(steps)])
    counts = np.bincount(draws.numpy(), minlength=len(weights))
    expected = np.array(weights) / sum(weights) * seeds * steps
    assert counts[expected == 0].sum() == 0
    positive = expected > 0
    chi2 = float((((counts - expected) ** 2)[positive] / expected[positive]).sum())
    assert chi2 < scipy_stats.chi2.isf(1e-4, df=int(positive.sum()) - 1), (counts, expected)


def test_bernoulli_and_rademacher_frequencies():
    gen = Gen(list(range(1000)))
    p = torch.tensor([0.05, 0.5, 0.9]).repeat(1000, 1)
    draws = torch.stack([gen.bernoulli("b", t, p) for t in range(50)]).numpy()  # 50000 per column
    for column, rate in enumerate([0.05, 0.5, 0.9]):
        assert abs(draws[..., column].mean() - rate) < 5 * math.sqrt(rate * (1 - rate) / 50_000)
    signs = gen.rademacher("r", 0, 100).numpy()
    assert set(np.unique(signs)) == {-1.0, 1.0}
    assert abs(signs.mean()) < 5 / math.sqrt(signs.size)


# --- what the numbers depend on -----------------------------------------------------------------------------


def test_block_cache_never_changes_a_value():
    """In order, out of order, across block boundaries: the same numbers as a fresh generator at each step."""
    seeds = [3, 11, 2**33 + 1]
    steps = [0, 1, 63, 64, 65, 191, 192, 500, 7, 7, 300, 0, 1000, 999, 64]
    cached = Gen(seeds)
    for t in list(range(400)) + steps:
        value = cached.uniform("s", t, 5)
        assert torch.equal(value, Gen(seeds).uniform("s", t, 5)), t
    for t in steps:
        assert cached.uniform("s", t, 5)[2, 4].item() == reference_uniform(2**33 + 1, "s", t, 4, 5)


def test_blocks_of_a_single_step_for_large_draws(monkeypatch):
    # With blocks capped at 1024 values, 8 seeds x 128 values per step fill a whole block: one step per block.
    # One seed alone gets 8 steps per block. Both must give the seed the same numbers, in any order.
    monkeypatch.setattr("theory.random._BLOCK_ELEMENTS", 1024)
    big = Gen(list(range(8)))
    alone = Gen([5])
    for t in (0, 1, 2, 9, 1, 8, 7, 100):
        assert torch.equal(big.uniform("x", t, 128)[5], alone.uniform("x", t, 128)[0])
    assert big.uniform("x", 3, 128)[5, 17].item() == reference_uniform(5, "x", 3, 17, 128)


def test_float32_values_are_float64_values_rounded():
    gen = Gen([1, 2, 3])
    u64 = gen.uniform("s", 5, 1000)
    u32 = gen.uniform("s", 5, 1000, dtype=torch.float32)
    assert u32.dtype == torch.float32
    assert torch.equal(u32, u64.to(torch.float32))


def test_a_seed_gets_the_same_numbers_in_any_batch():
    alone = Gen([42])
    for batch in ([42, 1, 2], [7, 8, 42], list(range(40, 104))):
        gen = Gen(batch)
        row = batch.index(42)
        for t in (0, 5, 130):
            assert torch.equal(gen.uniform("u", t, 7)[row], alone.uniform("u", t, 7)[0])
            assert torch.equal(gen.normal("n", t, 3)[row], alone.normal("n", t, 3)[0])


def test_different_streams_seeds_and_steps_differ():
    gen = Gen([1, 2, 2**32 + 1])
    a, b = gen.uniform("a", 0, 1000), gen.uniform("b", 0, 1000)
    assert not torch.equal(a, b)
    assert not torch.equal(a[0], a[1])
    assert not torch.equal(a[0], a[2])  # the high 32 bits of a seed count
    assert not torch.equal(a, gen.uniform("a", 1, 1000))
    # independent-looking, not merely different: correlations near 0 (|r| < 5/sqrt(n))
    for x, y in [(a[0], b[0]), (a[0], a[1]), (a[0], a[2]), (a[0], gen.uniform("a", 1, 1000)[0])]:
        assert abs(float(np.corrcoef(x.numpy(), y.numpy())[0, 1])) < 5 / math.sqrt(1000)


def test_seeds_must_be_one_dimensional():
    with pytest.raises(ValueError, match="1-d"):
        Gen(torch.zeros(2, 2, dtype=torch.int64))


def test_seed_blocks_do_not_overlap():
    assert seed_block(0, 3) == [0, 1, 2]
    assert seed_block(2, 2) == [2_000_006, 2_000_007]
    assert not set(seed_block(1, 1000)) & set(seed_block(2, 1000))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_same_numbers_on_cpu_and_cuda():
    cpu, cuda = Gen(SEEDS), Gen(SEEDS, device="cuda")
    for t in (0, 3, 2**31 + 5):
        assert torch.equal(cpu.uniform("u", t, 100), cuda.uniform("u", t, 100).cpu())
    assert torch.allclose(cpu.normal("n", 2, 100), cuda.normal("n", 2, 100).cpu(), rtol=1e-12, atol=1e-12)
