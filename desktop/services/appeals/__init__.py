"""Appeals and hearings: intake, levels and deadlines, hearings, decisions, the appellant's documents, the evidence packet."""
