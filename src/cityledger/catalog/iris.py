"""The IRIs of the catalogue: one resolvable IRI per dataset version, lineage, publisher and
registered document, all under the deployment's public base URL (`{base}`, e.g. https://data.city.example)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import is_address, to_checksum_address
from rdflib import URIRef

from ..config import check_base_url
from ..errors import CityLedgerError


def check_base(base: str) -> str:
    """The base URL without its trailing slash; http(s), no query or fragment."""
    return check_base_url(base, "base URL")


@dataclass(frozen=True)
class Iris:
    base: str

    def __post_init__(self):
        object.__setattr__(self, "base", check_base(self.base))

    def catalog(self, page: int | None = None) -> URIRef:
        """The dcat:Catalog (no page), or one page of it (hydra paging)."""
        return URIRef(f"{self.base}/catalog" + (f"?page={page}" if page is not None else ""))

    def dataset(self, dataset_id: int) -> URIRef:
        """One registered version: the derived DCAT-AP description, content-negotiated."""
        return URIRef(f"{self.base}/datasets/{int(dataset_id)}")

    def distribution(self, dataset_id: int) -> URIRef:
        return URIRef(f"{self.dataset(dataset_id)}#distribution")

    def record(self, dataset_id: int) -> URIRef:
        return URIRef(f"{self.dataset(dataset_id)}#record")

    def lineage(self, first_id: int) -> URIRef:
        """All versions of one dataset, named by its first version's id (the contract's lineage_of)."""
        return URIRef(f"{self.base}/lineages/{int(first_id)}")

    def publisher(self, address: str) -> URIRef:
        if not is_address(address):
            raise CityLedgerError(f"'{address}' is not an address")
        return URIRef(f"{self.base}/publishers/{to_checksum_address(address)}")

    def publisher_page(self, address: str) -> URIRef:
        """The publisher's datasets in the web app."""
        return URIRef(f"{self.base}/#/catalogue?publisher={self.publisher(address).rsplit('/', 1)[-1]}")

    def contact(self, address: str) -> URIRef:
        return URIRef(f"{self.publisher(address)}#contact")

    def metadata(self, metadata_hash: str) -> URIRef:
        """The registered document itself: exactly the bytes whose SHA-256 is on chain."""
        return URIRef(f"{self.base}/metadata/{metadata_hash.lower().removeprefix('0x')}")

    def landing(self, dataset_id: int) -> URIRef:
        """The dataset's page in the web app."""
        return URIRef(f"{self.base}/#/dataset/{int(dataset_id)}")

    def download(self, dataset_id: int) -> URIRef:
        """Where the data room serves an open dataset's file."""
        return URIRef(f"{self.base}/api/datasets/{int(dataset_id)}/download")

    def homepage(self) -> URIRef:
        return URIRef(f"{self.base}/")
