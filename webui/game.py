"""The Game's state: one dict in the session, changed only by these functions (the page only draws it)."""
from __future__ import annotations

from webui.deck import draw_rounds


def new_game(deck_path: str, deck: dict, rounds: int) -> dict:
    return {"deck": deck_path, "cards": draw_rounds(deck, rounds), "i": 0, "player": 0, "model": 0,
            "answer": None, "result": None, "history": []}


def answer(game: dict, detector, choice: str, path: str, truth: str) -> None:
    """The player's answer to the current card. The model answers the same picture through the same path as an
    upload (detection, close-up fallback, crop), once per round, before the page redraws; the reveal only draws."""
    result = detector.analyse_image(path, name="card")
    game["answer"], game["result"] = choice, result
    game["player"] += choice == truth
    game["model"] += result.verdict == truth
    game["history"].append({"card": path, "truth": truth, "player": choice, "model": result.verdict,
                            "p": result.fake_probability, "unsure": result.call == "inconclusive"})


def next_round(game: dict) -> None:
    game["i"] += 1
    game["answer"] = game["result"] = None
