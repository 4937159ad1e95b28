"""Link faces across sampled frames into per-person tracks by box overlap (IoU), greedily."""
from __future__ import annotations


def iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def link_tracks(boxes_per_frame: list[list[tuple]], min_iou: float = 0.2, max_gap: int = 8) -> list[list[int]]:
    """boxes_per_frame[t] = boxes in sampled frame t. Returns, per frame, the track id of each box.

    Each box joins the live track whose last box overlaps it most (IoU >= min_iou, seen within max_gap
    sampled frames); otherwise it starts a new track. Sampled frames are ~0.3 s apart, so a face moves little."""
    last: dict[int, tuple[int, tuple]] = {}  # track id -> (frame, box)
    ids_per_frame: list[list[int]] = []
    next_id = 0
    for t, boxes in enumerate(boxes_per_frame):
        candidates = sorted(
            ((iou(b, lb), i, tid) for i, b in enumerate(boxes) for tid, (lt, lb) in last.items() if t - lt <= max_gap),
            reverse=True,
        )
        ids = [-1] * len(boxes)
        taken: set[int] = set()
        for score, i, tid in candidates:
            if score < min_iou:
                break
            if ids[i] == -1 and tid not in taken:
                ids[i] = tid
                taken.add(tid)
        for i, b in enumerate(boxes):
            if ids[i] == -1:
                ids[i] = next_id
                next_id += 1
            last[ids[i]] = (t, b)
        ids_per_frame.append(ids)
    return ids_per_frame
