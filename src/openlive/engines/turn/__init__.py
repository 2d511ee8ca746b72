"""End-of-turn models: given the user's audio so far, how likely is it that they have finished?"""

from .smart_turn import SmartTurn

__all__ = ["SmartTurn"]
