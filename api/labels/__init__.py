"""Return labels: the reprint mutation, the PDF download route, the PDF and its fonts."""
