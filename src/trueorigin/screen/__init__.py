"""Inventory and catalog screening (`trueorigin screen`): which rows of a spreadsheet are covered equipment.

    from trueorigin.knowledge import load
    from trueorigin.screen import Matcher, RowValues, Screening

    Matcher(load()).screen(RowValues(brand="Amcrest", model="IP8M-2496EB")).vendor   # 'Dahua'
    run = Screening(Path("assets.csv"), Matcher(load()))          # columns detected: run.columns.detected
    for batch in run.batches(): ...                               # batch.added: covered, vendor, brand, ...

Modules: readers (formats, encodings, bad rows), columns (detection, --map), normalize (model numbers, MAC,
FCC IDs; name text forms come from trueorigin.names), verdict (Signal, RowValues, ScreenResult, decision keys),
matcher (each field -> signals, through the one name index), scoring (signals -> verdict, explanation), engine
(batches: distinct values, distinct combinations, Arrow/DuckDB joins), overlap (background read/write),
observations (a row as asset-record observations), writers (--out), decisions (reviewer judgements), report
(rows as Identifications for the store), cli. See docs/screening.md.
"""

from trueorigin.screen.columns import ColumnMap, detect_columns, parse_map_options
from trueorigin.screen.decisions import Decision, DecisionStore
from trueorigin.screen.engine import ScreenedBatch, Screening, Summary
from trueorigin.screen.matcher import Matcher, RowValues, ScreenResult, decision_key
from trueorigin.screen.readers import BadRow, TableSource, open_table

__all__ = [
    "BadRow",
    "ColumnMap",
    "Decision",
    "DecisionStore",
    "Matcher",
    "RowValues",
    "ScreenResult",
    "ScreenedBatch",
    "Screening",
    "Summary",
    "TableSource",
    "decision_key",
    "detect_columns",
    "open_table",
    "parse_map_options",
]
