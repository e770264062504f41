"""textanchor's web demo: draw, speak or type, and search one shared text-anchored space.

    python app.py [--checkpoint DIR] [--data DIR] [--cache DIR] [--offline] [limits...]

Serves on port 7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override) and runs unchanged as a
Hugging Face Space, from the repository, with or without the package installed. Every
computation lives in `textanchor.demo`; this file only wires components to `DemoService` methods.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # a Space runs the repository as is: `textanchor` is not installed there
ASSETS = ROOT / "assets"

from textanchor.demo.gallery import default_cache_dir  # noqa: E402 - light: neither torch nor Gradio
from textanchor.demo.policy import DEFAULT_CHECKPOINT  # noqa: E402


def _env(name: str, default):
    return type(default)(os.environ.get(name, default))


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=os.environ.get("TEXTANCHOR_CHECKPOINT", str(DEFAULT_CHECKPOINT)),
                   help="model folder (env TEXTANCHOR_CHECKPOINT; default checkpoints/things, else checkpoints/digits)")
    p.add_argument("--data", default=os.environ.get("TEXTANCHOR_DATA"),
                   help="folder with mnist/ and fsdd/ for the search gallery (env TEXTANCHOR_DATA)")
    p.add_argument("--cache", default=os.environ.get("TEXTANCHOR_CACHE"),
                   help="gallery, map and training cache (env TEXTANCHOR_CACHE; default ~/.cache/textanchor)")
    p.add_argument("--offline", action="store_true", default=os.environ.get("TEXTANCHOR_OFFLINE") == "1",
                   help="never download gallery data (env TEXTANCHOR_OFFLINE=1)")
    lim = p.add_argument_group("limits for visitors (a public Space is shared by everyone)")
    lim.add_argument("--max-epochs", type=int, default=_env("TEXTANCHOR_MAX_EPOCHS", 20))
    lim.add_argument("--max-minutes", type=float, default=_env("TEXTANCHOR_MAX_MINUTES", 10.0),
                     help="a training run stops (and saves) after this")
    lim.add_argument("--max-batch", type=int, default=_env("TEXTANCHOR_MAX_BATCH", 512))
    lim.add_argument("--runs-per-visitor", type=int, default=_env("TEXTANCHOR_RUNS_PER_VISITOR", 3))
    lim.add_argument("--max-upload-mb", type=int, default=_env("TEXTANCHOR_MAX_UPLOAD_MB", 20))
    lim.add_argument("--allow-any-path", action="store_true", default=os.environ.get("TEXTANCHOR_ALLOW_ANY_PATH") == "1",
                     help="let visitors name any server path (default: only the data, cache and checkpoint folders)")
    perf = p.add_argument_group("serving")
    perf.add_argument("--search-concurrency", type=int, default=_env("TEXTANCHOR_SEARCH_CONCURRENCY", 8),
                      help="searches, maps and picks answered at once (each takes ~10 ms of model work)")
    perf.add_argument("--torch-threads", type=int, default=_env("TEXTANCHOR_TORCH_THREADS", 1),
                      help="torch threads for searching and training together; 1 keeps a training run from "
                           "starving searches on a small CPU (busy-waiting OpenMP threads)")
    return p.parse_args(argv)


args = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
# Before torch and numba are imported: OpenMP threads that sleep instead of spinning when idle,
# and numba's on-disk cache in the app's cache folder (UMAP's maps themselves are kept on disk,
# see textanchor.demo.maps; that is what makes UMAP instant after a restart).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Gradio's queue rebuilds a pandas summary of its last 10,000 events after every event (for its
# monitoring page, which this app does not use): milliseconds per search that grow with uptime,
# as much server CPU as the model's own work in the profile. Once per 1,000 events is plenty.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "2000")
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(args.cache or default_cache_dir()).expanduser() / "numba"))

import gradio as gr  # noqa: E402

from textanchor.data.video import VIDEO_EXTENSIONS  # noqa: E402
from textanchor.demo.clips import GalleryClip, ResultGallery, ResultPlot  # noqa: E402
from textanchor.demo.explore import MAP_METHODS  # noqa: E402
from textanchor.demo.file_inputs import AudioInput, FileInput  # noqa: E402
from textanchor.demo.page import THINGS_MODALITIES  # noqa: E402
from textanchor.demo.picture_input import PhotoInput, PictureSketchpad  # noqa: E402
from textanchor.demo.policy import Limits  # noqa: E402
from textanchor.demo.result_slots import EMPTY_STATUS, clear_outputs, search_outputs  # noqa: E402
from textanchor.demo.service import MAX_K, DemoService  # noqa: E402
from textanchor.demo.static_files import serve_static  # noqa: E402
from textanchor.demo.trainer import TrainDataChoices, gpu, recipe_from_form  # noqa: E402
from textanchor.modalities import MODALITIES, create_modality  # noqa: E402

# Modalities whose Search inputs come from `Modality.query_component` (a plugin's); the digits'
# and the things' modalities share the page's own drawing, photo, microphone and sound inputs.
PLUGIN_MODALITIES = [m for m in MODALITIES.names() if m not in ("image", "audio", *THINGS_MODALITIES)]
EXAMPLE_TEXTS = {"digits": ["seven", "the number three", "nine", "zero"],
                 "things": ["a barking dog", "something that flies", "a cat", "rain on a window", "music"]}
QUERY_INPUTS = {"file": gr.File, "sketchpad": gr.Sketchpad, "image": gr.Image, "audio": gr.Audio}


def _device() -> str:
    from textanchor.train import pick_device

    return pick_device()


def _examples(pattern: str) -> list[str]:
    return [str(p) for p in sorted(ASSETS.glob(pattern))]


def _sid(request: gr.Request | None) -> str | None:
    """The visitor's browser session (each gradio_client Client has its own too)."""
    return getattr(request, "session_hash", None) or None


def build_demo(service: DemoService, search_concurrency: int = 8) -> gr.Blocks:
    # ----------------------------------------------------------------------- handlers
    def searcher(modality):
        def handler(value, k, shown, request: gr.Request):
            return search_outputs(service.search(modality, value, k, session=_sid(request)), shown)
        return handler

    def follow_model(request: gr.Request):
        """The Search inputs, examples and training choices of the visitor's model (`page.page_view`)."""
        view = service.page(_sid(request))
        have = set(view.modalities)
        ins = view.inputs
        return [gr.update(visible=ins["sketch"].visible, label=ins["sketch"].label), gr.update(visible=ins["sketch"].visible),
                gr.update(visible=ins["photo"].visible, label=ins["photo"].label),
                gr.update(visible=ins["speech"].visible, label=ins["speech"].label), gr.update(visible=ins["speech"].visible),
                gr.update(visible=ins["sound"].visible, label=ins["sound"].label), gr.update(visible=ins["sound"].visible),
                gr.update(placeholder=ins["text"].label),
                *[gr.update(visible=m in have) for m in PLUGIN_MODALITIES],
                *[gr.update(visible=view.examples == name) for name in example_groups],
                gr.update(choices=view.train_choices, value=view.train_default),
                # a video is searched through its frames (the image branch): no image branch, no video
                gr.update(visible="image" in have), gr.update(visible="image" in have)]

    def train_data(sid):
        """The Train tab's data choices for the session's model. Every model switch returns them
        itself: Gradio checks /train's choices against the session's copy of the checkbox, and an
        API client runs no .then() follow-up, so without this /train refused the picked model's data."""
        view = service.page(sid)
        return gr.update(choices=view.train_choices, value=view.train_default)

    def pick_model(name, request: gr.Request):
        """The model chooser: this visitor's model becomes `name` (the others keep theirs)."""
        sid = _sid(request) or "api"
        msg = service.activate(name, session=sid)
        return (msg, service.status(sid), *service.model_card(sid), train_data(sid))

    def clear(shown):
        return [None, None, "", None, None, *clear_outputs(shown)]

    def draw_map(method, dim, query, request: gr.Request):
        return service.map(MAP_METHODS[method], int(dim[0]), query, session=_sid(request))

    def pick(item_id, request: gr.Request):
        return service.pick(item_id, session=_sid(request))

    def pick_view(item_id, request: gr.Request):  # a plugin modality's item, drawn by its render()
        fig = service.pick_render(item_id, session=_sid(request))
        return gr.update(value=fig, visible=fig is not None)

    def train(data, manifest, image_enc, audio_enc, projector, loss, epochs, batch, lr, anchor, templates,
              videos, natural_video, request: gr.Request):
        try:
            sid = _sid(request) or "api"
            cfg = recipe_from_form(data, manifest, image_enc, audio_enc, projector, loss, epochs, batch, lr,
                                   anchor, templates, data_root=service.data_dir, videos=videos,
                                   natural_video=bool(natural_video), policy=service.policy_for(sid))
            run = service.start_training(sid, cfg)
        except (ValueError, TypeError) as e:  # InputError and bad recipe values
            yield f"⚠️ {e}", None, None, None, None
            return
        for snap in run.stream():
            yield snap.progress_html(), snap.loss_frame(), snap.epoch_table(), snap.metrics or None, snap.checkpoint
        if snap.error:
            raise gr.Error(snap.error)

    def stop(request: gr.Request):
        return service.stop_training(_sid(request) or "api")

    def activate_trained(folder, request: gr.Request):
        sid = _sid(request) or "api"
        if not folder:
            return "⚠️ Train a model first.", service.status(sid), gr.update()
        return service.activate(folder, session=sid), service.status(sid), train_data(sid)

    def download(folder, request: gr.Request):
        try:
            return service.zip_checkpoint(folder, session=_sid(request) or "api") if folder else None
        except ValueError as e:  # InputError: refused path or not a checkpoint (no traceback in the log)
            raise gr.Error(str(e), print_exception=False) from None

    def load_model(folder, request: gr.Request):
        sid = _sid(request) or "api"
        msg = service.activate(folder, session=sid)
        return (msg, service.status(sid), *service.model_card(sid), gr.update(choices=service.checkpoints(sid)),
                train_data(sid))

    def card(request: gr.Request):
        return service.model_card(_sid(request))

    def banner_text(request: gr.Request):
        return service.status(_sid(request))

    def leave(request: gr.Request):  # the page was closed: drop the visitor's own model
        service.forget(_sid(request))

    # ----------------------------------------------------------------------- layout
    with gr.Blocks(title="textanchor") as demo:
        gr.Markdown("# textanchor\nSketches, photos, sounds and spoken words mapped into one frozen text space "
                    "(all-MiniLM-L6-v2): a drawn dog, a bark and the spoken word *dog* land near the word “dog”, "
                    "though no drawing was ever paired with a sound.")
        with gr.Row(equal_height=True):
            model_pick = gr.Radio(service.shipped_models(), value=service.model_of(), label="Model", scale=1,
                                  elem_id="model-pick", info="Everyday things, or the original digits")
            banner = gr.Markdown(service.status(), elem_id="banner", label="model and gallery")
        pick_msg = gr.Markdown(elem_id="pick-msg", label="model message")
        query_state = gr.State(None)  # this visitor's latest query, starred on the map
        shown = gr.State(None)  # result slots this page shows (result_slots.Shown)
        have = set(service.query_modalities())  # the default model's; a visitor's own: follow_model
        view = service.page()
        with gr.Tabs():
            with gr.Tab("Search", id="search"):
                with gr.Row():
                    with gr.Column(scale=2):
                        ins = view.inputs
                        sketch = PictureSketchpad(label=ins["sketch"].label, type="numpy", image_mode="RGBA",
                                                  canvas_size=(400, 400), layers=False, elem_id="sketch",
                                                  brush=gr.Brush(default_size=20, colors=["#2563eb"], color_mode="fixed"),
                                                  visible=ins["sketch"].visible)
                        sketch_btn = gr.Button("Search with the drawing", variant="primary", elem_id="search-sketch",
                                               visible=ins["sketch"].visible)
                        with gr.Accordion(ins["photo"].label or "Or upload a photo", open=False,
                                          elem_id="photo-box", visible=ins["photo"].visible) as photo_box:
                            photo = PhotoInput(label="A photo", height=180,
                                             sources=["upload", "clipboard"], elem_id="photo-in")
                            photo_btn = gr.Button("Search with the photo", variant="primary", elem_id="search-photo")
                        audio = AudioInput(label=ins["speech"].label or "Say a word", sources=["microphone", "upload"],
                                         type="filepath", elem_id="audio-in", visible=ins["speech"].visible)
                        audio_btn = gr.Button("Search with the recording", variant="primary", visible=ins["speech"].visible)
                        sound = AudioInput(label=ins["sound"].label or "Play or record a sound", sources=["microphone", "upload"],
                                           type="filepath", elem_id="sound-in", visible=ins["sound"].visible)
                        sound_btn = gr.Button("Search with the sound", variant="primary", elem_id="search-sound",
                                              visible=ins["sound"].visible)
                        plugin_boxes, plugin_inputs, plugin_btns = [], [], []
                        for m in PLUGIN_MODALITIES:  # one input per registered modality, shown when the model has it
                            kind, kwargs = create_modality(m).query_component()
                            with gr.Group(visible=m in have) as box:
                                plugin_inputs.append(QUERY_INPUTS[kind](**kwargs, elem_id=f"{m}-in"))
                                plugin_btns.append(gr.Button(f"Search with the {m} item", variant="primary"))
                            plugin_boxes.append(box)
                        text = gr.Textbox(label="Or type any text", placeholder=ins["text"].label)
                        text_btn = gr.Button("Search with the text", variant="primary")
                        k = gr.Slider(1, MAX_K, value=6, step=1, label="Results per modality (top-k)", elem_id="top-k")
                        clear_btn = gr.Button("Clear", elem_id="clear")
                        with gr.Accordion("Search with a video (frames + sound)", open=False,
                                          visible="image" in have) as video_box:
                            video = FileInput(label="A short video file", file_types=list(VIDEO_EXTENSIONS),
                                            type="filepath", height=100, elem_id="video-in", what="video")
                            video_btn = gr.Button("Search with the video", variant="primary")
                    with gr.Column(scale=3):
                        status = gr.Markdown(EMPTY_STATUS, elem_id="search-status", label="status")
                        zero_shot = gr.Label(label="Zero-shot label of the query", num_top_classes=3, elem_id="zero-shot")
                        images = ResultGallery(label="Nearest pictures (label · similarity)", columns=5, height=300,
                                            elem_id="result-images")
                        videos = ResultGallery(label="Nearest videos (label · similarity)", columns=4, height=220,
                                            elem_id="result-videos", visible="image" in have)
                        gr.Markdown("**Nearest sounds and spoken words** (label · similarity)")
                        clips = []
                        for row in range(MAX_K // 2):
                            with gr.Row():
                                clips += [GalleryClip(visible=False, interactive=False, elem_classes="clip", label=f"clip {2 * row + j + 1}")
                                          for j in range(2)]
                        plots = []
                        for row in range(MAX_K // 2):  # results of modalities shown as plots (a plugin's)
                            with gr.Row():
                                plots += [ResultPlot(visible=False, label=f"result {2 * row + j + 1}") for j in range(2)]
                        with gr.Accordion("Results as JSON", open=False):
                            rows = gr.JSON(elem_id="result-json", label="results")
                example_groups = {}  # one set of examples per kind of model; follow_model shows the visitor's
                with gr.Row(visible=view.examples == "digits") as example_groups["digits"]:
                    gr.Examples(_examples("sketch_*.png"), [sketch], label="Example drawings")
                    gr.Examples(_examples("speech_*.wav"), [audio], label="Example recordings")
                    gr.Examples(EXAMPLE_TEXTS["digits"], [text], label="Example texts")
                with gr.Row(visible=view.examples == "things") as example_groups["things"]:
                    gr.Examples(_examples("things/sketch_*.png"), [sketch], label="Example drawings")
                    gr.Examples(_examples("things/photo_*.jpg"), [photo], label="Example photos")
                    gr.Examples(_examples("things/sound_*.ogg"), [sound], label="Example sounds")
                    gr.Examples(_examples("things/speech_*.wav"), [audio], label="Example words")
                    gr.Examples(EXAMPLE_TEXTS["things"], [text], label="Example texts")

            with gr.Tab("Explore", id="explore") as explore_tab:
                with gr.Row():
                    method = gr.Radio(list(MAP_METHODS), value="t-SNE", label="Projection")
                    dim = gr.Radio(["2-D", "3-D"], value="2-D", label="Dimensions")
                    redraw = gr.Button("Redraw map", size="sm")
                map_msg = gr.Markdown("The map is computed once per gallery (first time: up to a minute).", label="map status")
                plot = gr.Plot(label="The shared space", elem_id="map")
                with gr.Row():
                    pick_id = gr.Textbox(label="Show an item (id, or click a point)", placeholder="image:12",
                                         elem_id="pick-id", scale=3)
                    pick_btn = gr.Button("Show", scale=1, elem_id="pick-btn")
                pick_md = gr.Markdown(label="item")
                with gr.Row():
                    pick_img = gr.Image(label="Image", interactive=False, height=200)
                    pick_audio = gr.Audio(label="Clip", interactive=False)
                pick_plot = gr.Plot(label="Item", visible=False)  # items of a plugin modality

            with gr.Tab("Train", id="train"):
                lim = service.limits
                gr.Markdown(f"Device in use: **{_device()}**. Runs one at a time; searching keeps working meanwhile. "
                            f"This server allows up to {lim.max_epochs} epochs, batch {lim.max_batch}, "
                            f"{lim.max_minutes:g} minutes per run and {lim.runs_per_visitor} runs per visitor; "
                            "a model you train or load is yours alone (other visitors keep the default).")
                with gr.Row():
                    with gr.Column():
                        # The data sets for the visitor's kind of model (follow_model), and every plugin's.
                        data = TrainDataChoices(view.train_choices, value=view.train_default, label="Training data")
                        manifest = FileInput(label="…or a CSV manifest (path,text; files on the server)",
                                           file_types=[".csv"], type="filepath", height=120, what="manifest")
                        with gr.Row():
                            videos_path = gr.Textbox("", label="…and/or a video folder (class/*.mp4) or video CSV on the server",
                                                     placeholder="/data/clips or /data/clips.csv", scale=3)
                            natural_video = gr.Checkbox(False, label="Natural video (RGB frames)", scale=1)
                        with gr.Row():
                            image_enc = gr.Dropdown(_encoders("image"), value="image_cnn", label="Image encoder")
                            audio_enc = gr.Dropdown(_encoders("audio"), value="audio_cnn", label="Audio encoder")
                        with gr.Row():
                            projector = gr.Dropdown(_names("projectors", "PROJECTORS"), value="mlp", label="Projector")
                            loss = gr.Dropdown(_names("losses", "LOSSES"), value="mse_infonce", label="Loss")
                        with gr.Row():
                            epochs = gr.Number(3, label="Epochs", precision=0, minimum=1, maximum=service.limits.max_epochs)
                            batch = gr.Number(64, label="Batch size", precision=0, minimum=2, maximum=service.limits.max_batch)
                            lr = gr.Number(3e-3, label="Learning rate", minimum=1e-6, maximum=0.9)
                        anchor = gr.Textbox("all-MiniLM-L6-v2", label="Text anchor model")
                        templates = gr.Textbox("{}", lines=2, label="Text templates, one per line ({} = class name)")
                        with gr.Row():
                            train_btn = gr.Button("Train", variant="primary")
                            stop_btn = gr.Button("Stop", variant="stop")
                    with gr.Column():
                        progress = gr.HTML("Not started.", elem_id="train-progress", label="progress")
                        loss_plot = gr.LinePlot(x="step", y="loss", label="Training loss", height=250)
                        epoch_table = gr.Dataframe(headers=["epoch", "loss", "image/zero_shot_acc", "audio/zero_shot_acc"],
                                                   label="Held-out metrics per epoch", interactive=False)
                        final = gr.JSON(label="Final held-out evaluation")
                        trained = gr.Textbox(label="Trained checkpoint", interactive=False)
                        with gr.Row():
                            use_btn = gr.Button("Make it the active model")
                            dl_btn = gr.Button("Prepare download")
                        dl_file = gr.File(label="Checkpoint (zip)", interactive=False)
                        train_msg = gr.Markdown(label="message")

            with gr.Tab("Model", id="model") as model_tab:
                recipe, metrics, history = service.model_card()  # the default model's, until this visitor loads one
                model_msg = gr.Markdown(label="message")
                with gr.Row():
                    ckpt_pick = gr.Dropdown(service.checkpoints(), label="Checkpoint folder", allow_custom_value=True,
                                            scale=3)
                    load_btn = gr.Button("Load", scale=1)
                metrics_df = gr.Dataframe(metrics, label="Evaluation (held-out, at the end of training)", interactive=False)
                history_df = gr.Dataframe(history, label="Training history (epoch, loss, held-out zero-shot accuracy)",
                                          interactive=False)
                recipe_json = gr.JSON(recipe, label="Recipe")

        # ------------------------------------------------------------------- events
        # Query inputs, examples and training choices follow the visitor's model (follow_model).
        follows = [sketch, sketch_btn, photo_box, audio, audio_btn, sound, sound_btn, text, *plugin_boxes,
                   *example_groups.values(), data, video_box, videos]
        outs = [status, zero_shot, images, videos, *clips, *plots, rows, query_state, shown]  # result_slots.OUTPUTS
        # Searches share one concurrency group: each is ~10 ms of model work, so several at once
        # keep both cores busy while others wait on the network.
        fast = dict(concurrency_id="search", concurrency_limit=search_concurrency)
        # The page's inputs name what they take ("sketch", "photo", "speech", "sound"); the service
        # answers each with the visitor's model's branch for it (a digits model: image or audio).
        for event, modality, inp, api in (
                (sketch_btn.click, "sketch", sketch, "search_sketch"), (photo_btn.click, "photo", photo, "search_image"),
                (photo.upload, "photo", photo, False), (audio_btn.click, "speech", audio, "search_audio"),
                (audio.stop_recording, "speech", audio, False), (sound_btn.click, "sound", sound, "search_sound"),
                (sound.stop_recording, "sound", sound, False), (text_btn.click, "text", text, "search_text"),
                (text.submit, "text", text, False), (video_btn.click, "video", video, "search_video"),
                *[(btn.click, m, i, f"search_{m}") for m, i, btn in zip(PLUGIN_MODALITIES, plugin_inputs, plugin_btns)]):
            event(searcher(modality), [inp, k, shown], outs, api_name=api, **fast)
        # The canvas is reset in the browser (its own clear button): a None value from Python
        # leaves the strokes on screen.
        clear_btn.click(clear, shown, [audio, sound, text, video, photo, *outs], api_name="clear", js=CLEAR_SKETCH_JS)

        map_inputs = [method, dim, query_state]
        for trigger in (explore_tab.select, method.change, dim.change):
            trigger(draw_map, map_inputs, [plot, map_msg], api_name=False, concurrency_id="search")
        redraw.click(draw_map, map_inputs, [plot, map_msg], api_name="map", concurrency_id="search")
        for ev, name in ((pick_btn.click, "pick"), (pick_id.submit, False)):
            ev(pick, [pick_id], [pick_img, pick_audio, pick_md], api_name=name, concurrency_id="search").then(
                pick_view, [pick_id], pick_plot, api_name=False, concurrency_id="search")

        train_btn.click(gpu(train), [data, manifest, image_enc, audio_enc, projector, loss, epochs, batch, lr,
                                     anchor, templates, videos_path, natural_video],
                        [progress, loss_plot, epoch_table, final, trained], api_name="train", concurrency_limit=1)
        stop_btn.click(stop, None, train_msg, api_name="stop_training")
        use_btn.click(activate_trained, trained, [train_msg, banner, data], api_name="activate").then(
            follow_model, None, follows, api_name=False, trigger_mode="always_last")
        dl_btn.click(download, trained, dl_file, api_name="download")

        model_tab.select(card, None, [recipe_json, metrics_df, history_df], api_name=False)
        load_btn.click(load_model, ckpt_pick, [model_msg, banner, recipe_json, metrics_df, history_df, ckpt_pick, data],
                       api_name="load_checkpoint").then(follow_model, None, follows, api_name=False, trigger_mode="always_last")
        # always_last, on the pick and on the page's following of it: a visitor who clicks the other
        # model while the page is still following the first click gets it (Gradio's default, "once",
        # drops an event while the same one is pending, which left the radio and banner on one model
        # and the page's inputs on the other).
        # The page follows a pick by itself. A switch returns the Train tab's data choices itself
        # (train_data); an API client may call /follow_model for the rest of the page's inputs.
        model_pick.input(pick_model, model_pick, [pick_msg, banner, recipe_json, metrics_df, history_df, data],
                         api_name="pick_model", trigger_mode="always_last").then(
            follow_model, None, follows, api_name="follow_model", trigger_mode="always_last")
        demo.load(banner_text, None, banner, api_name="status", concurrency_limit=None)  # a string from memory
        demo.unload(leave)
    return demo


def _encoders(modality: str) -> list[str]:
    from textanchor.encoders import ENCODER_MODALITIES

    return [n for n, mods in sorted(ENCODER_MODALITIES.items()) if modality in mods]


def _names(module: str, registry: str) -> list[str]:
    import importlib

    return getattr(importlib.import_module(f"textanchor.{module}"), registry).names()


CLEAR_SKETCH_JS = """
() => { const b = document.querySelector('#sketch button[aria-label="Clear canvas"]'); if (b) b.click(); return []; }
"""

# Page JavaScript: clicking a point on the plotly map types its id into the "Show an item" box.
# It also picks the brush, so a visitor can draw on the sketchpad at once.
PAGE_JS = """
() => {
  const hook = () => {
    const pad = document.querySelector('#sketch');
    if (pad && pad.textContent.includes('select the draw tool')) {  // textContent: no layout pass
      const brush = pad.querySelector('button[aria-label="Brush"]');
      if (brush) brush.click();
    }
    document.querySelectorAll('#map .js-plotly-plot').forEach((plot) => {
      if (plot.dataset.taHooked) return;
      plot.dataset.taHooked = '1';
      plot.on('plotly_click', (ev) => {
        const p = ev.points && ev.points[0];
        if (!p || !p.customdata) return;
        const box = document.querySelector('#pick-id textarea, #pick-id input');
        box.value = Array.isArray(p.customdata) ? p.customdata[0] : p.customdata;
        box.dispatchEvent(new Event('input', {bubbles: true}));
        setTimeout(() => document.querySelector('#pick-btn').click(), 100);
      });
    });
  };
  new MutationObserver(hook).observe(document.body, {childList: true, subtree: true});
}
"""

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)
_limits = Limits(args.max_epochs, args.max_minutes, args.max_batch, args.runs_per_visitor, args.max_upload_mb)
# warm_up=False: the text model (sentence-transformers, seconds of imports) loads once the page
# is served, so it does not compete with building and serving the page on a small CPU.
service = DemoService(args.checkpoint, args.data, args.cache, download=not args.offline, limits=_limits,
                      allow_any_path=args.allow_any_path, warm_up=False)
# Gallery media (written once when a gallery is built) and the example inputs are served as they
# are: a search returns their paths and Gradio neither hashes nor copies them per answer.
MEDIA = [service.cache_dir / "galleries", ASSETS]
serve_static(MEDIA)  # and a cheap per-file check: static_files.py
demo = build_demo(service, args.search_concurrency)

if __name__ == "__main__":
    if args.torch_threads > 0:  # here, not at import: a test importing build_demo keeps its own setting
        import torch

        torch.set_num_threads(args.torch_threads)
    demo.queue(default_concurrency_limit=4).launch(
        max_file_size=f"{args.max_upload_mb}mb", allowed_paths=[str(p) for p in MEDIA],
        theme=gr.themes.Soft(), js=PAGE_JS, show_error=True,  # validation messages reach API callers too
        prevent_thread_lock=True,
    )
    service.warm_up()  # the first text query waits for it if it comes sooner
    demo.block_thread()
