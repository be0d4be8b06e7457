"""Hospital interoperability: the clinic's record as FHIR (R5 by default, R4B on request).
See docs/interop.md. Codes and units live in one table, `idds.interop.codes`."""
