"""Clock time on the timeline: a time falls in the tick ⌊(time − start)/Δ⌋ + 1."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from upheaval.model.timeline import tick_at

START = "2022-01-02T00:00:00+00:00"
T0 = dt.datetime.fromisoformat(START)

minutes = st.sampled_from([1.0, 15.0, 60.0, 90.0, 1440.0])
offsets = st.integers(0, 10**7)  # seconds after the start


@given(minutes, st.integers(0, 5000))
def test_tick_k_begins_at_start_plus_k_minus_one_ticks(tick_minutes, k):
    begin = T0 + dt.timedelta(minutes=tick_minutes * k)
    assert tick_at(begin, START, tick_minutes) == k + 1
    if k > 0:  # a second earlier is still the tick before
        assert tick_at(begin - dt.timedelta(seconds=1), START, tick_minutes) == k


@given(minutes, offsets, offsets)
def test_later_times_never_fall_in_earlier_ticks(tick_minutes, a, b):
    ta = tick_at(T0 + dt.timedelta(seconds=a), START, tick_minutes)
    tb = tick_at(T0 + dt.timedelta(seconds=b), START, tick_minutes)
    assert (a <= b) <= (ta <= tb)
    assert ta >= 1 and tb >= 1


@given(offsets)
def test_offsets_and_iso_text_name_the_same_instant(seconds):
    when = T0 + dt.timedelta(seconds=seconds)
    in_almaty = when.astimezone(dt.timezone(dt.timedelta(hours=6)))
    naive_utc = when.replace(tzinfo=None)
    expected = tick_at(when, START, 60.0)
    assert tick_at(in_almaty.isoformat(), START, 60.0) == expected
    assert tick_at(naive_utc, START, 60.0) == expected  # no offset means UTC
