"""The morning digest: each subscriber hears who slipped, by e-mail and webhook, once per day.

- ``signals``: the one adapter over the snapshot's calibrated signal (scorecard + calibration);
- ``model``: the digest as plain values (pure: snapshot tables in, message model out);
- ``chart``, ``email_render``, ``webhook_render``: formatting (pure);
- ``transport``: SMTP and webhook POST; ``ledger``: the delivery ledger in the warehouse;
- ``send``: the exactly-once loop. docs/digest.md describes it all.
"""
