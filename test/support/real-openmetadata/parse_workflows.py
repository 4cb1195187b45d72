"""The real CLI's verdict on workflow configs, without running them.

Run with the Python of a venv holding openmetadata-ingestion. Reads a JSON list of
{"name": ..., "workflow": {...}} on stdin and prints one JSON line per workflow:
{"name": ..., "valid": bool, "error": str|null}. Each workflow goes through
`parse_workflow_config_gracefully` (metadata/ingestion/api/parser.py), the parser the
workflows of `metadata ingest|profile|...` call in `create()` before connecting to
anything, so no connection is made.
"""
import json
import sys

from metadata.ingestion.api.parser import parse_workflow_config_gracefully


def verdict(workflow):
    try:
        parse_workflow_config_gracefully(workflow)
        return True, None
    except Exception as exc:  # the parser raises ParsingConfigurationError or ValidationError
        return False, f"{type(exc).__name__}: {exc}"


def main():
    cases = json.load(sys.stdin)
    for case in cases:
        valid, error = verdict(case["workflow"])
        print(json.dumps({"name": case["name"], "valid": valid, "error": error}), flush=True)


if __name__ == "__main__":
    main()
