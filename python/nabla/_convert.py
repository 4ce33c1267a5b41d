"""``nabla.convert``: a CSV table of any size streamed into ``.npy`` files, as ``nabla convert``."""

from . import _nabla


def convert(input, output, labels_out=None, label_column=None, header=None):
    """Streams the CSV table ``input`` into ``output`` (``.npy``, float32, rows × features) and
    ``labels_out`` (``.npy``, float64; default: ``output`` with the extension ``.labels.npy``),
    one row at a time, so a table larger than memory converts. The label columns are chosen as
    ``nabla train`` chooses them (``label_column``: a name or index, or a list of them; by
    default ``label``/``target``/``class``/``y``, else the last column) and must hold numbers.
    ``header``: True, False, or None to tell by the first line. Returns a dict of the rows and
    the feature and label column names. ``numpy.load`` reads both files (``mmap_mode="r"`` maps
    them); raises ValueError on a bad table, OSError on a file that cannot be read or written.
    """
    if label_column is None:
        columns = []
    elif isinstance(label_column, (str, int)):
        columns = [str(label_column)]
    else:
        columns = [str(c) for c in label_column]
    labels_out = None if labels_out is None else str(labels_out)
    rows, features, labels, written = _nabla.csv_to_npy(str(input), str(output), labels_out, columns, header)
    return {"rows": rows, "features": features, "labels": labels, "labels_out": str(written)}
