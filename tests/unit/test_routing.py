"""Which endpoint a path names, which credentials a request carries, which model it names (§2)."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers, QueryParams

from openlive.protocol.routing import (
    Credentials,
    Route,
    Surface,
    bare_model_name,
    credentials_from,
    route_for_path,
)

GEMINI = "/ws/google.ai.generativelanguage.{v}.GenerativeService.BidiGenerateContent"
VERTEX = "/ws/google.cloud.aiplatform.{v}.LlmBidiService/BidiGenerateContent"
FIREBASE = "/ws/google.firebase.vertexai.v1beta.GenerativeService/BidiGenerateContent"
FIREBASE_VERTEX = (
    "/ws/google.firebase.vertexai.v1beta.LlmBidiService/BidiGenerateContent/locations/"
)


class TestGeminiPaths:
    @pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
    def test_every_api_version(self, version: str) -> None:
        assert route_for_path(GEMINI.format(v=version)) == Route(Surface.GEMINI, version)

    @pytest.mark.parametrize("version", ["v1alpha", "v1beta", "v1"])
    def test_constrained_for_ephemeral_tokens(self, version: str) -> None:
        route = route_for_path(GEMINI.format(v=version) + "Constrained")
        assert route == Route(Surface.GEMINI, version, constrained=True)

    def test_leading_double_slash_from_google_genai_js(self) -> None:
        assert route_for_path("/" + GEMINI.format(v="v1beta")) == Route(Surface.GEMINI, "v1beta")

    def test_behind_a_path_prefix(self) -> None:
        route = route_for_path("/gateway/live" + GEMINI.format(v="v1"))
        assert route == Route(Surface.GEMINI, "v1")

    def test_trailing_slash(self) -> None:
        assert route_for_path(GEMINI.format(v="v1") + "/") == Route(Surface.GEMINI, "v1")

    def test_uses_developer_api_usage_names(self) -> None:
        assert not route_for_path(GEMINI.format(v="v1")).uses_vertex_usage_names


class TestVertexPaths:
    @pytest.mark.parametrize("version", ["v1beta1", "v1"])
    def test_every_api_version(self, version: str) -> None:
        assert route_for_path(VERTEX.format(v=version)) == Route(Surface.VERTEX, version)

    def test_api_gateway_prefix(self) -> None:
        route = route_for_path("/vertex-gw/us-central1" + VERTEX.format(v="v1beta1"))
        assert route == Route(Surface.VERTEX, "v1beta1")

    def test_uses_vertex_usage_names(self) -> None:
        assert route_for_path(VERTEX.format(v="v1")).uses_vertex_usage_names


class TestFirebasePaths:
    def test_gemini_developer_backend(self) -> None:
        assert route_for_path(FIREBASE) == Route(Surface.FIREBASE_GOOGLE_AI, "v1beta")

    def test_vertex_backend_with_location(self) -> None:
        route = route_for_path(FIREBASE_VERTEX + "us-central1")
        assert route == Route(Surface.FIREBASE_VERTEX, "v1beta", location="us-central1")
        assert route.uses_vertex_usage_names

    def test_vertex_backend_global_location_with_leading_double_slash(self) -> None:
        route = route_for_path("/" + FIREBASE_VERTEX + "global")
        assert route is not None
        assert route.location == "global"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "",
        "/health",
        "/ws",
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateMusic",
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService/BidiGenerateContent",
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContentX",
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent/extra",
        "/ws/google.ai.generativelanguage.GenerativeService.BidiGenerateContent",
        "/ws/google.ai.generativelanguage.beta.GenerativeService.BidiGenerateContent",
        "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService.BidiGenerateContent",
        "/ws/google.firebase.vertexai.v1beta.LlmBidiService/BidiGenerateContent",
        "/ws/google.firebase.vertexai.v1beta.LlmBidiService/BidiGenerateContent/locations/",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    ],
)
def test_other_paths_are_not_live_endpoints(path: str) -> None:
    assert route_for_path(path) is None


def creds(query: str = "", **headers: str) -> Credentials:
    raw = {name.replace("_", "-"): value for name, value in headers.items()}
    return credentials_from(QueryParams(query), Headers(raw))


class TestCredentials:
    def test_none(self) -> None:
        assert creds() == Credentials()
        assert creds().any == []

    def test_key_query_parameter(self) -> None:
        assert creds("key=js-key-1") == Credentials(api_key="js-key-1")

    def test_x_goog_api_key_header(self) -> None:
        assert creds(x_goog_api_key="py-key") == Credentials(api_key="py-key")

    def test_header_names_are_case_insensitive(self) -> None:
        headers = Headers({"X-Goog-Api-Key": "py-key", "AUTHORIZATION": "Bearer t"})
        assert credentials_from({}, headers) == Credentials(api_key="py-key", token="t")

    def test_query_key_wins_over_header_key(self) -> None:
        assert creds("key=from-query", x_goog_api_key="from-header").api_key == "from-query"

    def test_access_token_query_parameter(self) -> None:
        assert creds("access_token=auth_tokens/abc") == Credentials(token="auth_tokens/abc")

    @pytest.mark.parametrize("scheme", ["Bearer", "Token", "Firebase", "bearer", "TOKEN"])
    def test_authorization_schemes(self, scheme: str) -> None:
        assert creds(Authorization=f"{scheme} secret-1") == Credentials(token="secret-1")

    @pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "secret-1"])
    def test_other_or_empty_authorization_is_ignored(self, value: str) -> None:
        assert creds(Authorization=value) == Credentials()

    def test_vertex_oauth_bearer(self) -> None:
        found = creds(Authorization="Bearer ya29.fake", x_goog_user_project="p")
        assert found == Credentials(token="ya29.fake")

    def test_python_ephemeral_token_in_both_headers_is_a_token(self) -> None:
        found = creds(Authorization="Token auth_tokens/abc", x_goog_api_key="auth_tokens/abc")
        assert found == Credentials(token="auth_tokens/abc")

    def test_ephemeral_token_in_x_goog_api_key_alone_is_a_token(self) -> None:
        assert creds(x_goog_api_key="auth_tokens/abc") == Credentials(token="auth_tokens/abc")

    def test_ephemeral_token_in_key_query_is_a_token(self) -> None:
        assert creds("key=auth_tokens/abc") == Credentials(token="auth_tokens/abc")

    def test_api_key_and_firebase_id_token_together(self) -> None:
        found = creds(x_goog_api_key="ios-key", Authorization="Firebase id-token")
        assert found == Credentials(api_key="ios-key", token="id-token")
        assert found.any == ["ios-key", "id-token"]

    def test_empty_key_is_absent(self) -> None:
        assert creds("key=", x_goog_api_key="") == Credentials()


@pytest.mark.parametrize(
    "model",
    [
        "gemini-live-2.5-flash",
        "models/gemini-live-2.5-flash",
        "tunedModels/gemini-live-2.5-flash",
        "publishers/google/models/gemini-live-2.5-flash",
        "projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash",
        "projects/my-proj/models/gemini-live-2.5-flash",
        "projects/my-proj/locations/global/publishers/google/models/gemini-live-2.5-flash",
    ],
)
def test_bare_model_name(model: str) -> None:
    assert bare_model_name(model) == "gemini-live-2.5-flash"


def test_bare_model_name_of_names_with_models_inside() -> None:
    assert bare_model_name("my-models/x") == "my-models/x"
    assert bare_model_name("models/gemini-3.8-live") == "gemini-3.8-live"
