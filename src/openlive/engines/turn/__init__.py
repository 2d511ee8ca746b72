"""End-of-turn models: given the user's audio (or words) so far, how likely is it that they have
finished?"""

from .smart_turn import SmartTurn
from .text_eou import TextEndOfTurn, text_end_of_turn

__all__ = ["SmartTurn", "TextEndOfTurn", "text_end_of_turn"]
