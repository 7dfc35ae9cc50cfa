"""The oracle: the suite's calls made straight to the fake provider with the
official OpenInference instrumentors on, exporting to the same Phoenix.

Run as a subprocess by conftest.py, so the instrumentors never touch the calls
that go through the proxy. One instrumentor per run, each run to its own
project, so every span is found by project and time window:
  --instrumentor openai   openinference-instrumentation-openai  (every case)
  --instrumentor litellm  openinference-instrumentation-litellm (LiteLLM cases)
  --instrumentor anthropic openinference-instrumentation-anthropic (Anthropic SDK cases)
  --instrumentor google-genai openinference-instrumentation-google-genai (google-genai SDK cases)
  --instrumentor bedrock  openinference-instrumentation-bedrock (boto3's Bedrock
                          Runtime calls; AnthropicBedrock's made again with boto3)
(Not both in one process: LiteLLM calls the OpenAI SDK, so the two spans would
share a trace, and Phoenix files a whole trace under one project.)

Usage: python oracle.py --instrumentor openai --root http://127.0.0.1:FAKE
         --grpc http://127.0.0.1:4317 --project oracle-openai --api-key KEY
         --out results.json [case ids...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from openinference.instrumentation.anthropic import AnthropicInstrumentor  # noqa: E402
from openinference.instrumentation.bedrock import BedrockInstrumentor  # noqa: E402
from openinference.instrumentation.google_genai import GoogleGenAIInstrumentor  # noqa: E402
from openinference.instrumentation.litellm import LiteLLMInstrumentor  # noqa: E402
from openinference.instrumentation.openai import OpenAIInstrumentor  # noqa: E402
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402

import cases  # noqa: E402


def provider(project: str, grpc: str) -> TracerProvider:
    tp = TracerProvider(resource=Resource({"openinference.project.name": project}))
    tp.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=grpc, insecure=True)))
    return tp


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--grpc", required=True)
    ap.add_argument("--instrumentor", choices=["openai", "litellm", "anthropic", "google-genai", "bedrock"], required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("ids", nargs="*")
    args = ap.parse_args()

    tp = provider(args.project, args.grpc)
    if args.instrumentor == "openai":
        OpenAIInstrumentor().instrument(tracer_provider=tp)
    elif args.instrumentor == "anthropic":
        AnthropicInstrumentor().instrument(tracer_provider=tp)
    elif args.instrumentor == "google-genai":
        GoogleGenAIInstrumentor().instrument(tracer_provider=tp)
    elif args.instrumentor == "bedrock":
        BedrockInstrumentor().instrument(tracer_provider=tp)
    else:
        LiteLLMInstrumentor().instrument(tracer_provider=tp)

    selected = [cases.BY_ID[i] for i in args.ids] if args.ids else cases.CASES
    target = cases.Target(root=args.root, api_key=args.api_key, via_proxy=False)
    results = cases.run_cases(selected, target, oracle=True)

    tp.shutdown()  # SimpleSpanProcessor: every span is already exported
    with open(args.out, "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
