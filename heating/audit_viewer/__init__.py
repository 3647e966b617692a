"""The audit log's viewer: the list with its filters, every event in words (labels), the records
it names with links the reader may open (names), before → after (present).  It reads every
domain, so it sits on top of them; the log itself (``heating.audit``: the model and
``record()``) sits below them all."""
