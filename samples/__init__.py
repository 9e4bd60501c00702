"""Sample data for `consentreg demo`: a fictional kindergarten and school class, their guardians
and staff, purposes with Norwegian notice texts, consents, evidence and hostile sample photos.

Installed as `consentreg_samples`; see README.md in this folder for the story.
"""
