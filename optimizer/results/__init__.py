"""Stage five: the portfolio, its tables and the results folder."""

from optimizer.results.portfolio import goods_table, period_table, portfolio
from optimizer.results.write import dumps_json, write_csv, write_folder, write_large_csv

__all__ = [
    "dumps_json",
    "goods_table",
    "period_table",
    "portfolio",
    "write_csv",
    "write_folder",
    "write_large_csv",
]
