"""Ids are UUIDv7: valid, time-ordered, and the same values uuid itself would build."""

from __future__ import annotations

import copy
import time
import uuid

from app.kit.ids import new_id


def test_an_id_is_a_version_7_uuid_like_any_other() -> None:
    made = new_id()
    parsed = uuid.UUID(str(made))
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert made == parsed
    assert hash(made) == hash(parsed)
    assert copy.deepcopy(made) == made
    assert str(made) == str(parsed)


def test_ids_carry_the_time_they_were_made_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert before <= first.int >> 80 <= second.int >> 80
    assert first < second
    assert len({new_id() for _ in range(10_000)}) == 10_000
