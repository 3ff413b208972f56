"""The read views of a dataset: ``astype()``, ``asstr()``, ``fields()`` (h5py's wrapper objects)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from zarrlayered.compat.h5py.dataset import Dataset

__all__ = ["AsStrWrapper", "AstypeWrapper", "FieldsWrapper"]


class _View:
    """Shape, length and ``__array__`` shared by the views; subclasses convert what ``dset[...]`` reads."""

    def __init__(self, dset: Dataset) -> None:
        self._dset = dset

    def _convert(self, data: Any) -> Any:
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype[Any]:
        raise NotImplementedError

    def __getitem__(self, args: Any) -> Any:
        return self._convert(self._dset[args])

    @property
    def shape(self) -> tuple[int, ...] | None:
        return self._dset.shape

    @property
    def ndim(self) -> int:
        return self._dset.ndim

    @property
    def size(self) -> int | None:
        return self._dset.size

    def __len__(self) -> int:
        return len(self._dset)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        if copy is False:
            raise ValueError(
                f"{type(self).__name__}.__array__ received {copy=} but memory allocation cannot be avoided on read"
            )
        data = np.asarray(self[...], dtype=self.dtype if self.dtype.kind == "O" else None)
        return data if dtype is None else data.astype(dtype)


class AstypeWrapper(_View):
    """``dset.astype(dtype)``: reads converted to ``dtype``."""

    def __init__(self, dset: Dataset, dtype: Any) -> None:
        super().__init__(dset)
        self._dtype: np.dtype[Any] = np.dtype(dtype)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._dtype

    def _convert(self, data: Any) -> Any:
        if isinstance(data, np.ndarray):
            return data.astype(self._dtype)
        return np.asarray(data).astype(self._dtype)[()]


class AsStrWrapper(_View):
    """``dset.asstr(encoding, errors)``: string data decoded to ``str``."""

    def __init__(self, dset: Dataset, encoding: str, errors: str = "strict") -> None:
        super().__init__(dset)
        self.encoding = encoding
        self.errors = errors

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(object)

    def _decode(self, item: Any) -> Any:
        return bytes(item).decode(self.encoding, self.errors) if isinstance(item, bytes | np.bytes_) else item

    def _convert(self, data: Any) -> Any:
        if not isinstance(data, np.ndarray):
            return self._decode(data)
        out = np.empty(data.shape, dtype=object)
        out.reshape(-1)[:] = [self._decode(x) for x in data.reshape(-1).tolist()] if data.size else []
        return out


class FieldsWrapper(_View):
    """``dset.fields(names)``: only the named fields of a compound dataset."""

    def __init__(self, dset: Dataset, names: str | list[str]) -> None:
        super().__init__(dset)
        self._names = names

    @property
    def dtype(self) -> np.dtype[Any]:
        full = self._dset.dtype
        if isinstance(self._names, str):
            return np.dtype(full.fields[self._names][0])  # type: ignore[index]
        return np.dtype([(n, full.fields[n][0]) for n in self._names])  # type: ignore[index]

    def __getitem__(self, args: Any) -> Any:
        args = args if isinstance(args, tuple) else (args,)
        names = (self._names,) if isinstance(self._names, str) else tuple(self._names)
        return self._dset[args + names]

    def _convert(self, data: Any) -> Any:
        return data
