"""Every on-chain mechanism of a run, in the order they are set up (rewards pays the committee
that is set up before it). Adding a mechanism is one line here; see fl/features/base.py."""
from __future__ import annotations

from fl.core.errors import UserError
from fl.features.attendance.feature import AttendanceFeature
from fl.features.base import FLOWER, SIMULATION, Feature
from fl.features.committee.feature import CommitteeFeature
from fl.features.rewards.feature import RewardsFeature
from fl.features.watermark.feature import WatermarkKeysFeature

FEATURES: tuple[type[Feature], ...] = (
    CommitteeFeature,
    RewardsFeature,
    WatermarkKeysFeature,
    AttendanceFeature,
)

#: the explorer's panels of what a run may use after it ends (the model token and its market,
#: minted by `python -m fl tokenize`): modules with `contracts(info, run)` and `panel(source)`
AFTER_RUN_PANELS = ("fl.features.ownership.panel",)

#: how each way of running is named in messages
MODE_PHRASES = {SIMULATION: "the in-process engine", FLOWER: "the Flower engine"}


def enabled(cfg) -> list[type[Feature]]:
    """The features `cfg` asks for, in set-up order."""
    return [feature for feature in FEATURES if feature.enabled(cfg)]


def check(cfg, mode: str = SIMULATION) -> list[type[Feature]]:
    """The features `cfg` asks for, each checked; a one-line UserError for one that `mode` cannot
    run or that needs the chain while the config turns it off."""
    out = enabled(cfg)
    for feature in out:
        if not cfg.chain.enabled:
            raise UserError(f"the on-chain mechanism {feature.name!r} needs chain.enabled true "
                            f"(its config section: {feature.section})")
        if mode not in feature.modes:
            raise UserError(f"the on-chain mechanism {feature.name!r} cannot run with {MODE_PHRASES[mode]}: "
                            f"{feature.unsupported}; run it with `python -m fl run --engine inprocess`")
        feature.check(cfg)
    return out


def panels(cfg) -> list:
    """What the explorer asks for panels, in page order: the features `cfg` enables (classes), then
    the after-run panels (modules); each has `contracts(info, run)` and `panel(source)`."""
    from importlib import import_module

    return [*enabled(cfg), *(import_module(name) for name in AFTER_RUN_PANELS)]
