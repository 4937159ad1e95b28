"""Game: spot the fake. The player and the model answer the same face; a scoreboard keeps count."""
import streamlit as st

from detector.decode import load_image
from detector.errors import InputError
from webui.deck import DeckError
from webui.game import answer, new_game, next_round
from webui.resources import game_deck, get_detector, model_cards
from webui.views import doubt_warnings, face_gallery, sidebar_nav

ROUNDS = 10
QUESTION_WIDTH = 320  # px; the reveal's heatmap is drawn at the same size
st.set_page_config(page_title="Spot the fake", page_icon="🎮", layout="centered")
sidebar_nav()
st.title("Spot the fake")

try:
    deck_label, deck = game_deck()  # the server's deck only: a visitor has no way to name a folder
except DeckError as e:
    st.info(
        f"**No deck to play with yet.** {e}\n\n"
        "The game needs face images sorted into two folders, `Real/` and `Fake/`. Whoever runs this server sets "
        "the deck: `streamlit run app.py -- --deck DIR` or the environment variable `DEEPFAKE_GAME_DECK`."
    )
    st.stop()
with st.sidebar:
    rounds = st.number_input("Rounds", 2, 50, ROUNDS, help="Takes effect on the next game.")
    st.caption(f"Deck: {deck_label} ({len(deck['real']):,} real and {len(deck['fake']):,} fake faces)")
if not model_cards():
    st.error("No model found in models/. Train one with `python train.py --data DIR` (see README).")
    st.stop()
detector = get_detector(None)

g = st.session_state
if "game" not in g or g.game["deck"] != deck_label:
    g.game = new_game(deck_label, deck, int(rounds))
game = g.game
n = len(game["cards"])


def play_again() -> None:
    del st.session_state["game"]


s1, s2, s3 = st.columns(3)
s1.metric("You", f"{game['player']} / {min(game['i'] + (game['answer'] is not None), n)}")
s2.metric("Model", f"{game['model']} / {min(game['i'] + (game['answer'] is not None), n)}")
s3.metric("Round", f"{min(game['i'] + 1, n)} of {n}")

if game["i"] >= n:
    st.subheader("Game over")
    you, model = game["player"], game["model"]
    st.markdown(f"You got **{you} of {n}** right; the model got **{model} of {n}**. "
                + ("**You beat the model!**" if you > model else "It's a tie." if you == model else "The model wins this time."))
    cols = st.columns(5)
    for k, h in enumerate(game["history"]):
        with cols[k % 5]:
            try:
                st.image(load_image(h["card"]), width="stretch", output_format="JPEG")
            except InputError:
                pass
            p = "no face" if h["p"] is None else f"{100 * h['p']:.0f}% fake" + (", unsure" if h.get("unsure") else "")
            st.caption(f"**{k + 1}. {h['truth']}** · you {'✓' if h['player'] == h['truth'] else '✗'} · "
                       f"model {'✓' if h['model'] == h['truth'] else '✗'} ({p})")
    st.button("Play again", key="again", on_click=play_again, type="primary")
    st.stop()

path, truth = game["cards"][game["i"]]
try:
    image = load_image(path)
except InputError as e:  # a broken deck file: skip it rather than stop the game
    st.warning(f"Skipping an unreadable deck image ({e}).")
    st.button("Next round", key="skip", on_click=next_round, args=(game,))
    st.stop()

st.image(image, caption="Is this face real or fake?", width=QUESTION_WIDTH, output_format="JPEG")
if game["answer"] is None:
    b1, b2 = st.columns(2)
    b1.button("Real", key="real", on_click=answer, args=(game, detector, "real", path, truth), width="stretch")
    b2.button("Fake", key="fake", on_click=answer, args=(game, detector, "fake", path, truth), width="stretch")
    st.stop()

result = game["result"]
model_says = result.verdict
(st.success if game["answer"] == truth else st.error)(
    f"It was **{truth.upper()}**. You said {game['answer']}: {'right' if game['answer'] == truth else 'wrong'}.")
if result.fake_probability is None:
    st.markdown(f"The model found no face to judge: wrong. {result.message}")
else:
    unsure = "**The model was unsure** (its score is inside its inconclusive band); forced to choose, it " \
        if result.call == "inconclusive" else "The model "
    st.markdown(f"{unsure}said **{model_says}** ({100 * result.fake_probability:.0f}% fake): "
                f"{'right' if model_says == truth else 'wrong'}.")
    doubt_warnings(result, detector.card)  # as on the Detector page: a grey or unfamiliar face's score is in doubt
    face_gallery(detector, result, range(len(result.faces)), columns=1, width=QUESTION_WIDTH)
st.button("Next round" if game["i"] + 1 < n else "See the result", key="next", on_click=next_round, args=(game,),
          type="primary")
