"""Search filters (year, collection, tag, has-PDF) as a set of allowed paper ids."""

from __future__ import annotations

from dataclasses import dataclass

from scimult_desktop.store.database import LibraryDatabase


@dataclass
class SearchFilters:
    year_from: int | None = None
    year_to: int | None = None
    collection: str | None = None
    tag: str | None = None
    has_pdf: bool | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.year_from, self.year_to, self.collection, self.tag, self.has_pdf))

    def allowed_ids(self, database: LibraryDatabase) -> set[int] | None:
        """Paper ids passing every filter, or None when no filter is set."""
        if not self.active:
            return None
        clauses, params = [], []
        if self.year_from is not None:
            clauses.append("p.year >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append("p.year <= ?")
            params.append(self.year_to)
        if self.collection:
            clauses.append(
                "p.id IN (SELECT pc.paper_id FROM paper_collections pc JOIN collections c ON c.id = pc.collection_id"
                " WHERE c.name = ? COLLATE NOCASE)"
            )
            params.append(self.collection)
        if self.tag:
            clauses.append(
                "p.id IN (SELECT pt.paper_id FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.name = ? COLLATE NOCASE)"
            )
            params.append(self.tag)
        if self.has_pdf is not None:
            exists = "EXISTS (SELECT 1 FROM files f WHERE f.paper_id = p.id AND f.kind = 'pdf' AND f.status != 'missing')"
            clauses.append(exists if self.has_pdf else f"NOT {exists}")
        clauses.append("p.deleted_at IS NULL")  # papers in the trash pass no filter
        sql = "SELECT p.id FROM papers p WHERE " + " AND ".join(clauses)
        return {int(row[0]) for row in database.conn.execute(sql, params)}
