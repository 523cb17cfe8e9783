"""The dashboard pages, admins' and owners': the filter form, the figures beside the previous
period's, and the charts served as SVG images."""
