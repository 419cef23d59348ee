"""Reports: CSV, XLSX and PDF files generated in the background from the order, batch and supplier
tables, scoped to what the requesting user may see, kept in Django's storage for a retention period.
"""
