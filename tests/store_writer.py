"""Another process writing to a local Chroma store (tests/test_store_contract.py): as an ingest in
another process does, while the test's reader holds its own client open.

    python tests/store_writer.py STORE_DIR upsert FILE.json   # {"ids", "vectors", "metadatas"}
    python tests/store_writer.py STORE_DIR delete FILE.json   # {"ids"}
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from index.chroma_store import ChromaStore


def main() -> None:
    path, action, data_file = sys.argv[1:4]
    data = json.loads(Path(data_file).read_text())
    store = ChromaStore(Path(path))
    if action == "upsert":
        store.upsert(data["ids"], np.asarray(data["vectors"], dtype=np.float32), data["metadatas"])
    else:
        store.delete_ids(data["ids"])


if __name__ == "__main__":
    main()
