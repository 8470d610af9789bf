"""Truth inference: estimating true labels and worker quality from a crowd.

No torch is imported here: aggregation runs where torch is absent.
"""

from ._base import BaseAggregator, BaseEMAggregator
from ._dawid_skene import DawidSkene
from ._glad import GLAD
from ._ibcc import IBCC
from ._iwmv import IWMV
from ._mace import MACE
from ._majority_vote import MajorityVote
from ._multilabel import MultiLabelAggregator, MultiLabelDawidSkene
from ._one_coin import OneCoinDawidSkene
from ._wawa import Wawa, ZeroBasedSkill

__all__ = [
    "BaseAggregator",
    "BaseEMAggregator",
    "DawidSkene",
    "GLAD",
    "IBCC",
    "IWMV",
    "MACE",
    "MajorityVote",
    "MultiLabelAggregator",
    "MultiLabelDawidSkene",
    "OneCoinDawidSkene",
    "Wawa",
    "ZeroBasedSkill",
]
