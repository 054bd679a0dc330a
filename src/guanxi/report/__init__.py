"""Reports: scheduled, white-label, bilingual reports built from every capability's sections."""
