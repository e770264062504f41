"""textanchor's web demo: draw, speak or type, and search one shared text-anchored space.

    python app.py [--checkpoint DIR] [--data DIR] [--cache DIR] [--offline]

Serves on port 7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override) and runs unchanged as a
Hugging Face Space. Every computation lives in `textanchor.demo`; this file only wires
components to `DemoService` methods.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import gradio as gr

from textanchor.data.video import VIDEO_EXTENSIONS
from textanchor.demo.explore import MAP_METHODS
from textanchor.demo.service import DEFAULT_CHECKPOINT, MAX_K, DemoService
from textanchor.demo.trainer import DATA_CHOICES, gpu, recipe_from_form

ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
MAX_UPLOAD = "20mb"  # a spoken digit is a few hundred KB; refuse anything far bigger


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=os.environ.get("TEXTANCHOR_CHECKPOINT", str(DEFAULT_CHECKPOINT)),
                   help="model folder (env TEXTANCHOR_CHECKPOINT; default checkpoints/default)")
    p.add_argument("--data", default=os.environ.get("TEXTANCHOR_DATA"),
                   help="folder with mnist/ and fsdd/ for the search gallery (env TEXTANCHOR_DATA)")
    p.add_argument("--cache", default=os.environ.get("TEXTANCHOR_CACHE"),
                   help="gallery, map and training cache (env TEXTANCHOR_CACHE; default ~/.cache/textanchor)")
    p.add_argument("--offline", action="store_true", default=os.environ.get("TEXTANCHOR_OFFLINE") == "1",
                   help="never download gallery data (env TEXTANCHOR_OFFLINE=1)")
    return p.parse_args(argv)


def _device() -> str:
    from textanchor.train import pick_device

    return pick_device()


def _examples(pattern: str) -> list[str]:
    return [str(p) for p in sorted(ASSETS.glob(pattern))]


def build_demo(service: DemoService) -> gr.Blocks:
    # ----------------------------------------------------------------------- handlers
    def search_outputs(view):
        clips = [gr.update(value=p, label=c, visible=True) for p, c in view.clips]
        clips += [gr.update(value=None, label="", visible=False)] * (MAX_K - len(view.clips))
        return [view.status, view.top_classes or None, view.images, view.videos, *clips, view.rows, view.query]

    def search_sketch(sketch, k):
        return search_outputs(service.search("image", sketch, k))

    def search_audio(audio, k):
        return search_outputs(service.search("audio", audio, k))

    def search_text(text, k):
        return search_outputs(service.search("text", text, k))

    def search_video(video, k):
        return search_outputs(service.search("video", video, k))

    def clear():
        return [None, "", None, "Draw, record or type a query.", None, [], [],
                *[gr.update(value=None, visible=False)] * MAX_K, {}, None]

    def draw_map(method, dim, query):
        fig, msg = service.map(MAP_METHODS[method], int(dim[0]), query)
        return fig, msg

    def train(data, manifest, image_enc, audio_enc, projector, loss, epochs, batch, lr, anchor, templates,
              videos, natural_video, request: gr.Request):
        try:
            cfg = recipe_from_form(data, manifest, image_enc, audio_enc, projector, loss, epochs, batch, lr,
                                   anchor, templates, data_root=service.data_dir, videos=videos,
                                   natural_video=bool(natural_video))
            run = service.start_training(request.session_hash or "api", cfg)
        except ValueError as e:  # InputError and bad recipe values
            yield f"⚠️ {e}", None, None, None, None
            return
        for snap in run.stream():
            yield snap.progress_html(), snap.loss_frame(), snap.epoch_table(), snap.metrics or None, snap.checkpoint
        if snap.error:
            raise gr.Error(snap.error)

    def stop(request: gr.Request):
        return service.stop_training(request.session_hash or "api")

    def activate_trained(folder):
        if not folder:
            return "⚠️ Train a model first.", service.status()
        return service.activate(folder), service.status()

    def download(folder):
        return service.zip_checkpoint(folder) if folder else None

    def load_model(folder):
        msg = service.activate(folder)
        return (msg, service.status(), *service.model_card(), gr.update(choices=service.checkpoints()))

    # ----------------------------------------------------------------------- layout
    with gr.Blocks(title="textanchor") as demo:
        gr.Markdown("# textanchor\nImages and audio mapped into one frozen text space "
                    "(all-MiniLM-L6-v2): a drawn 7 and a spoken *seven* land next to the word “seven”.")
        banner = gr.Markdown(service.status(), elem_id="banner", label="model and gallery")
        query_state = gr.State(None)  # this visitor's latest query, starred on the map
        with gr.Tabs():
            with gr.Tab("Search", id="search"):
                with gr.Row():
                    with gr.Column(scale=2):
                        sketch = gr.Sketchpad(label="Draw a digit", type="numpy", image_mode="RGBA",
                                              canvas_size=(400, 400), layers=False, elem_id="sketch",
                                              brush=gr.Brush(default_size=20, colors=["#2563eb"], color_mode="fixed"))
                        sketch_btn = gr.Button("Search with the drawing", variant="primary", elem_id="search-sketch")
                        audio = gr.Audio(label="Say a digit (or upload a file)", sources=["microphone", "upload"],
                                         type="filepath", elem_id="audio-in")
                        audio_btn = gr.Button("Search with the recording", variant="primary")
                        text = gr.Textbox(label="Or type any text", placeholder="seven, the number three, nine ...")
                        text_btn = gr.Button("Search with the text", variant="primary")
                        k = gr.Slider(1, MAX_K, value=6, step=1, label="Results per modality (top-k)")
                        clear_btn = gr.Button("Clear", elem_id="clear")
                        with gr.Accordion("Search with a video (frames + sound)", open=False):
                            video = gr.File(label="A short video file", file_types=list(VIDEO_EXTENSIONS),
                                            type="filepath", height=100, elem_id="video-in")
                            video_btn = gr.Button("Search with the video", variant="primary")
                    with gr.Column(scale=3):
                        status = gr.Markdown("Draw, record or type a query.", elem_id="search-status", label="status")
                        zero_shot = gr.Label(label="Zero-shot label of the query", num_top_classes=3, elem_id="zero-shot")
                        images = gr.Gallery(label="Nearest images (label · similarity)", columns=5, height=300,
                                            elem_id="result-images")
                        videos = gr.Gallery(label="Nearest videos (label · similarity)", columns=4, height=220,
                                            elem_id="result-videos")
                        gr.Markdown("**Nearest spoken clips** (label · similarity)")
                        clips = []
                        for row in range(MAX_K // 2):
                            with gr.Row():
                                clips += [gr.Audio(visible=False, interactive=False, elem_classes="clip", label=f"clip {2 * row + j + 1}")
                                          for j in range(2)]
                        with gr.Accordion("Results as JSON", open=False):
                            rows = gr.JSON(elem_id="result-json", label="results")
                with gr.Row():
                    gr.Examples(_examples("sketch_*.png"), [sketch], label="Example drawings")
                    gr.Examples(_examples("speech_*.wav"), [audio], label="Example recordings")
                    gr.Examples(["seven", "the number three", "nine", "zero"], [text], label="Example texts")

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

            with gr.Tab("Train", id="train"):
                gr.Markdown(f"Device in use: **{_device()}**. Runs one at a time; searching keeps working meanwhile.")
                with gr.Row():
                    with gr.Column():
                        data = gr.CheckboxGroup(list(DATA_CHOICES), value=[k for k in DATA_CHOICES if "offline" in k],
                                                label="Training data")
                        manifest = gr.File(label="…or a CSV manifest (path,text; files on the server)",
                                           file_types=[".csv"], type="filepath", height=120)
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
                            epochs = gr.Number(3, label="Epochs", precision=0, minimum=1, maximum=200)
                            batch = gr.Number(64, label="Batch size", precision=0, minimum=2, maximum=4096)
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
                recipe, metrics, history = service.model_card()
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
        outs = [status, zero_shot, images, videos, *clips, rows, query_state]
        sketch_btn.click(search_sketch, [sketch, k], outs, api_name="search_sketch")
        audio_btn.click(search_audio, [audio, k], outs, api_name="search_audio")
        audio.stop_recording(search_audio, [audio, k], outs, api_name=False)
        text_btn.click(search_text, [text, k], outs, api_name="search_text")
        text.submit(search_text, [text, k], outs, api_name=False)
        video_btn.click(search_video, [video, k], outs, api_name="search_video")
        # The canvas is reset in the browser (its own clear button): a None value from Python
        # leaves the strokes on screen.
        clear_btn.click(clear, None, [audio, text, video, *outs], api_name="clear", js=CLEAR_SKETCH_JS)

        map_inputs = [method, dim, query_state]
        for trigger in (explore_tab.select, method.change, dim.change):
            trigger(draw_map, map_inputs, [plot, map_msg], api_name=False)
        redraw.click(draw_map, map_inputs, [plot, map_msg], api_name="map")
        pick_btn.click(service.pick, [pick_id], [pick_img, pick_audio, pick_md], api_name="pick")
        pick_id.submit(service.pick, [pick_id], [pick_img, pick_audio, pick_md], api_name=False)

        train_btn.click(gpu(train), [data, manifest, image_enc, audio_enc, projector, loss, epochs, batch, lr,
                                     anchor, templates, videos_path, natural_video],
                        [progress, loss_plot, epoch_table, final, trained], api_name="train", concurrency_limit=1)
        stop_btn.click(stop, None, train_msg, api_name="stop_training")
        use_btn.click(activate_trained, trained, [train_msg, banner], api_name="activate")
        dl_btn.click(download, trained, dl_file, api_name="download")

        model_tab.select(lambda: service.model_card(), None, [recipe_json, metrics_df, history_df], api_name=False)
        load_btn.click(load_model, ckpt_pick, [model_msg, banner, recipe_json, metrics_df, history_df, ckpt_pick],
                       api_name="load_checkpoint")
        demo.load(service.status, None, banner, api_name="status")
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
args = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
service = DemoService(args.checkpoint, args.data, args.cache, download=not args.offline)
demo = build_demo(service)

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=4).launch(
        max_file_size=MAX_UPLOAD, allowed_paths=[str(service.cache_dir), str(ASSETS)],
        theme=gr.themes.Soft(), js=PAGE_JS,
    )
