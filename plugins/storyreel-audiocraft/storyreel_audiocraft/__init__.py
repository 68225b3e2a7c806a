"""storyreel backends on Meta's audiocraft, a plugin: ``music.audiocraft`` (MusicGen) and ``sfx.audiogen``
(AudioGen), registered through the ``storyreel.backends`` entry points of this package's pyproject.toml.

Importing these modules needs storyreel only; audiocraft itself is imported when a model is loaded.
"""
