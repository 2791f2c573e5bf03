"""Bounded-memory metrics: StreamingHistogram and DownsampledSeries."""

from __future__ import annotations

import itertools
import json
import math
import random

import pytest

from simulator.metrics import DownsampledSeries, StreamingHistogram


def _exact_quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile the histogram estimates."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------- histogram


@pytest.mark.parametrize("bpd", [10, 20, 40])
def test_quantiles_stay_within_the_documented_error_bound(bpd: int) -> None:
    rng = random.Random(bpd)
    values = [rng.lognormvariate(-2.0, 1.5) for _ in range(5000)]
    h = StreamingHistogram(buckets_per_decade=bpd)
    for v in values:
        h.add(v)
    bound = 10 ** (1 / bpd) - 1
    for q in (0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999):
        exact = _exact_quantile(values, q)
        assert abs(h.quantile(q) - exact) / exact <= bound + 1e-12, (q, h.quantile(q), exact)
    assert h.quantile(0) == min(values) and h.quantile(1) == max(values)
    assert h.count == 5000 and h.min == min(values) and h.max == max(values)
    assert h.sum == pytest.approx(sum(values)) and h.mean == pytest.approx(sum(values) / 5000)


def test_memory_is_bounded_by_the_bucket_grid() -> None:
    h = StreamingHistogram()
    rng = random.Random(1)
    for _ in range(20000):
        h.add(10 ** rng.uniform(-8, 9))
    # 13 decades x 20 buckets + the top one, whatever the count.
    assert len(h.buckets()) <= 13 * 20 + 1
    assert sum(n for _, n in h.buckets()) == 20000


def test_zero_bucket_tiny_and_huge_values() -> None:
    h = StreamingHistogram(lowest=1e-3, highest=1e3)
    for v in (0.0, 0.0, 0.0, 1e-9, 5e4):
        h.add(v)
    assert h.buckets() == [(0.0, 3), (1e-3, 1), (1e3, 1)]
    assert h.quantile(0.5) == 0.0
    assert 0 < h.quantile(0.8) <= 1e-3
    # Above `highest`, the estimate lies in [highest, max].
    assert 1e3 <= h.quantile(0.99) <= 5e4
    assert h.quantile(1.0) == 5e4


def test_values_on_bucket_edges_land_in_the_lower_bucket() -> None:
    h = StreamingHistogram(lowest=1.0, highest=1000.0, buckets_per_decade=1)
    for v in (1.0, 10.0, 100.0, 10.5):
        h.add(v)
    assert h.buckets() == [(1.0, 1), (10.0, 1), (100.0, 2)]


def test_empty_histogram() -> None:
    h = StreamingHistogram()
    assert h.count == 0 and h.mean is None and h.min is None
    assert math.isnan(h.quantile(0.5))
    assert h.buckets() == []


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(7)
    a_values = [rng.expovariate(3) for _ in range(500)]
    b_values = [rng.expovariate(0.1) for _ in range(300)] + [0.0]
    a, b, both = StreamingHistogram(), StreamingHistogram(), StreamingHistogram()
    for v in a_values:
        a.add(v)
        both.add(v)
    for v in b_values:
        b.add(v)
        both.add(v)
    a.merge(b)
    assert a.buckets() == both.buckets()
    assert (a.count, a.min, a.max) == (both.count, both.min, both.max)
    assert a.sum == pytest.approx(both.sum)
    a.merge(StreamingHistogram())  # merging an empty one changes nothing
    assert a.count == both.count


def test_merge_refuses_a_different_grid() -> None:
    with pytest.raises(ValueError, match="different buckets"):
        StreamingHistogram().merge(StreamingHistogram(buckets_per_decade=10))


def test_to_dict_round_trips_through_json() -> None:
    h = StreamingHistogram(lowest=1e-4, highest=5e6, buckets_per_decade=25)
    rng = random.Random(3)
    for _ in range(1000):
        h.add(rng.paretovariate(1.2) - 1)
    h.add(1e8)  # above `highest`
    data = json.loads(json.dumps(h.to_dict()))
    again = StreamingHistogram.from_dict(data)
    assert again.to_dict() == h.to_dict()
    assert again.quantile(0.95) == h.quantile(0.95)
    assert all(n > 0 for _, n in data["buckets"])  # only non-empty buckets


def test_from_dict_rejects_inconsistent_data() -> None:
    data = StreamingHistogram().to_dict()
    data.update(count=1, buckets=[[0.123, 1]])
    with pytest.raises(ValueError, match=r"not an edge"):
        StreamingHistogram.from_dict(data)
    data.update(buckets=[[0.0, 2]])
    with pytest.raises(ValueError, match=r"add up to 2, expected count=1"):
        StreamingHistogram.from_dict(data)
    with pytest.raises(ValueError, match="not a StreamingHistogram dict"):
        StreamingHistogram.from_dict({"buckets": []})


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_values_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="finite and >= 0"):
        StreamingHistogram().add(bad)


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="lowest"):
        StreamingHistogram(lowest=0)
    with pytest.raises(ValueError, match="highest"):
        StreamingHistogram(lowest=1, highest=1)
    with pytest.raises(ValueError, match="buckets_per_decade"):
        StreamingHistogram(buckets_per_decade=0)
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        StreamingHistogram().quantile(1.5)


# ---------------------------------------------------------------------- series


def test_series_keeps_everything_until_full() -> None:
    s = DownsampledSeries(max_points=10)
    for i in range(9):
        s.add(float(i), float(i * i))
    assert s.points() == [(float(i), float(i * i)) for i in range(9)]
    assert s.stride == 1


@pytest.mark.parametrize("n", [10, 11, 999, 1000, 1001, 4096, 10007])
def test_series_is_bounded_and_spans_the_whole_run(n: int) -> None:
    s = DownsampledSeries(max_points=100)
    for i in range(n):
        s.add(float(i), 1.0)
    pts = s.points()
    assert len(pts) <= 100 and len(s) == len(pts)
    assert pts[0] == (0.0, 1.0)
    assert pts[-1] == (float(n - 1), 1.0)  # the most recent point is always there
    times = [t for t, _ in pts]
    assert times == sorted(set(times))
    if n >= 1000:
        assert len(pts) >= 50  # decimation halves, never collapses


def test_series_kept_points_are_evenly_strided() -> None:
    s = DownsampledSeries(max_points=16)
    for i in range(1000):
        s.add(float(i), float(i))
    kept = [t for t, _ in s.points()][:-1]
    assert all(int(t) % s.stride == 0 for t in kept)
    assert [b - a for a, b in itertools.pairwise(kept)] == [s.stride] * (len(kept) - 1)


def test_series_peaks_survive_decimation() -> None:
    s = DownsampledSeries(max_points=20)
    rng = random.Random(5)
    spikes = {137: 500.0, 777: 900.0, 4242: 1234.0}
    for i in range(5000):
        s.add(float(i), spikes.get(i, rng.random()))
    peaks = s.peaks()
    for t_spike, value in spikes.items():
        # The spike is carried by the first kept point at or after it.
        carrier = next(m for t, m in peaks if t >= t_spike)
        assert carrier == value
    assert max(m for _, m in peaks) == 1234.0
    assert all(m >= v for (_, v), (_, m) in zip(s.points(), peaks, strict=True))


def test_series_is_deterministic() -> None:
    def build() -> list[tuple[float, float, float]]:
        s = DownsampledSeries(max_points=50)
        rng = random.Random(11)
        t = 0.0
        for _ in range(3000):
            t += rng.expovariate(1.0)
            s.add(t, rng.gauss(0, 1))
        return s.envelope()

    assert build() == build()


def test_series_validates_input() -> None:
    s = DownsampledSeries(max_points=8)
    s.add(5.0, 1.0)
    s.add(5.0, 2.0)  # equal times are fine
    with pytest.raises(ValueError, match=r"time order: t=4.0 is before the previous t=5.0"):
        s.add(4.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        s.add(6.0, math.nan)
    with pytest.raises(ValueError, match="max_points"):
        DownsampledSeries(max_points=2)
    assert DownsampledSeries().points() == []
