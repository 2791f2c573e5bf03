"""The contract strategies: valid models validate and round-trip, invalid data is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from conformance.properties import strategies as S
from simulator.backend.schedule import parse_defined_instant
from simulator.contract import (
    WEEKDAYS,
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupType,
    ConnectionData,
    ContractModel,
    Periodicity,
    ResultState,
)

FAST = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MODELS = sorted(S.MODEL_STRATEGIES, key=lambda m: m.__name__)


def test_every_contract_model_has_a_valid_and_an_invalid_strategy() -> None:
    contract_models = {
        cls
        for cls in vars(__import__("simulator.contract", fromlist=["x"])).values()
        if isinstance(cls, type) and issubclass(cls, ContractModel) and cls is not ContractModel
    }
    assert set(S.MODEL_STRATEGIES) == contract_models
    assert set(S.INVALID_DATA_STRATEGIES) == contract_models


def _round_trip(model: BaseModel) -> None:
    if isinstance(model, ConnectionData):
        # A SecretStr dumps masked on purpose: it must never leak into JSON...
        dumped = json.loads(model.model_dump_json())
        if model.password is not None:
            assert set(dumped["password"]) <= {"*"}
        # ... and round-trips when revealed explicitly.
        data = model.model_dump()
        if model.password is not None:
            data["password"] = model.password.get_secret_value()
        again = ConnectionData.model_validate(data)
        assert again.endpoint == model.endpoint and again.user == model.user
        assert (again.password is None) == (model.password is None)
        if model.password is not None and again.password is not None:
            assert again.password.get_secret_value() == model.password.get_secret_value()
        return
    assert type(model).model_validate_json(model.model_dump_json()) == model
    assert type(model).model_validate(model.model_dump(mode="json")) == model


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_valid_models_validate_and_round_trip_through_json(model: type[ContractModel]) -> None:
    @FAST
    @given(S.MODEL_STRATEGIES[model]())
    def check(instance: Any) -> None:
        assert isinstance(instance, model)
        # Re-validating what was built accepts it unchanged.
        assert model.model_validate(instance.model_dump()) == instance
        _round_trip(instance)

    check()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_invalid_data_is_always_refused(model: type[ContractModel]) -> None:
    @FAST
    @given(S.INVALID_DATA_STRATEGIES[model]())
    def check(data: dict[str, Any]) -> None:
        assert isinstance(data, dict)
        with pytest.raises(ValidationError):
            model.model_validate(data)

    check()


# ---------------------------------------------------------------- restrictions


@FAST
@given(
    st.data(),
    st.sets(st.sampled_from(list(BackupType)), min_size=1),
    st.sets(st.sampled_from(list(Periodicity)), min_size=1),
)
def test_policies_keep_to_the_supported_types_and_periodicities(
    data: st.DataObject, types: set[BackupType], periodicities: set[Periodicity]
) -> None:
    policy: BackupPolicy = data.draw(
        S.backup_policies(types=types, periodicities=periodicities, max_configurations=5)
    )
    keys = [c.key for c in policy.configurations]
    assert len(keys) == len(set(keys))
    for config in policy.configurations:
        assert config.type in types
        assert config.subtype in periodicities


@FAST
@given(st.data())
def test_configuration_options_are_honoured(data: st.DataObject) -> None:
    lo = datetime(2026, 1, 5, tzinfo=UTC)
    hi = lo + timedelta(days=3)
    config: BackupConfiguration = data.draw(
        S.backup_configurations(
            timed=True, defined_between=(lo, hi), min_hourly=4, max_disk_source=0
        )
    )
    assert config.time is not None
    if config.subtype is Periodicity.DEFINED_HOUR:
        assert lo <= parse_defined_instant(config.time) < hi
    if config.subtype is Periodicity.HOURLY:
        assert 4 <= int(config.time) <= 24
    if config.type is not BackupType.FILESYSTEM:
        assert set(config.sources) <= {"0"}
    untimed = data.draw(S.backup_configurations(timed=False))
    assert untimed.time is None


@FAST
@given(S.backup_results())
def test_results_are_well_formed_as_the_checks_judge_them(result: BackupResult) -> None:
    assert result.provider_id
    assert (result.finish_date is not None) == result.state.is_final
    if result.finish_date is not None:
        assert result.creation_date <= result.finish_date
    if result.expiration_date is not None:
        assert result.expiration_date > result.creation_date
    assert result.size_bytes >= 0
    if result.restores:
        assert result.state is ResultState.DONE
    for restore in result.restores:
        assert restore.backup_provider_id == result.provider_id


def test_invalid_configurations_cover_each_rule() -> None:
    """Each family of broken configuration appears, and is refused for its own reason."""
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(S.invalid_backup_configuration_data())
    def collect(data: dict[str, Any]) -> None:
        with pytest.raises(ValidationError) as info:
            BackupConfiguration.model_validate(data)
        text = str(info.value)
        for fragment, family in (
            ("does not match the", "time"),
            ("not a lower-case weekday", "day-name"),
            ("each weekday may appear once", "day-repeat"),
            ("needs at least one weekday", "day-missing"),
            ("only WEEKLY_PLANNED takes days", "day-elsewhere"),
            ("backs up disks", "disk-source"),
            ("FILESYSTEM backs up paths", "path-source"),
            ("Extra inputs are not permitted", "extra"),
        ):
            if fragment in text:
                seen.add(family)

    collect()
    assert seen == {
        "time",
        "day-name",
        "day-repeat",
        "day-missing",
        "day-elsewhere",
        "disk-source",
        "path-source",
        "extra",
    }


def test_weekdays_drawn_are_the_contract_names() -> None:
    @FAST
    @given(S.backup_configurations(periodicities={Periodicity.WEEKLY_PLANNED}))
    def check(config: BackupConfiguration) -> None:
        assert config.days and set(config.days) <= set(WEEKDAYS)

    check()


def test_defined_times_reject_a_bad_range() -> None:
    lo = datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="lo < hi"):
        S.defined_times(between=(lo, lo))
    with pytest.raises(ValueError, match="min_hours"):
        S.hourly_times(0)
