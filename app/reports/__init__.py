"""The report pipeline: validate -> resolve entities -> dedupe -> write, in one transaction."""
