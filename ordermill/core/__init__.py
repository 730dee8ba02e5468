"""The core: orders, money, stock, statuses and history. Imports no Flask, no SDK, no plugin.

A regular package (not a namespace one) so that packaging ships it and import-linter sees
it; plugins reach it only through `ordermill.api`.
"""
