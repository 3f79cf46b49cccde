"""Hardening (issue #9): hostile input and many users at once, on both backends.

Attack classes tried here, with their number of cases (fuzzing, templates, sessions and
CSRF, signing links, CSV formula injection and backups have their own tests elsewhere):

- upload size: over the limit on the API, the upload page and the CLI; one at the limit is read (4)
- wrong file types: PDF, PNG, EXE, HTML, XML, XLSX, UTF-16 JSON, non-UTF-8 CSV (8)
- compressed input: gzip bomb (1 MB -> 1 GiB) and zip bomb under three names and an explicit
  format, a gzip Content-Encoding request body (7)
- YAML alias bombs: billion laughs, one inside a legislators file (two formats), a
  self-referencing alias, a repeated record (5)
- deep nesting: JSON 100,000 and 900 levels, YAML flow and block, EP JSON (5)
- enormous CSV: huge quoted and unquoted cells, huge header (API and preview page), 2 million
  cells on a line, 5 MB without a newline, an unclosed quote, a name too long, a huge cell in an
  EP meps.csv (9)
- NUL characters: CSV, JSON \\u0000, YAML \\0 (3)
- all or nothing, bad on line 400 of 500: e-mail, date, name/identifier/organisation name/
  organisation identifier longer than their column, duplicate identifier, missing cell; the
  fixed file imports whole (9)
- request body over the limit before anyone signs in (3 paths; expected to fail until the body
  limit middleware lands)
- concurrency against `campaign serve`: 20 signers at once, one link submitted by 5 clients,
  10 editors saving the same version, two CLI imports of the UK Commons file at once, two API
  uploads of the same 300-person file at once (5)
- stored XSS in Chromium: 47 fields each given <script>, "><img onerror>, ' onmouseover and
  " onmouseover at once; javascript: URLs in 4 URL fields (refused) and a person's imported link;
  attribute-breaking https URLs in 3 URL fields; 22 pages checked for executed script, injected
  elements, handlers and javascript: links, and for the payload shown as text (1 browser session)
"""
