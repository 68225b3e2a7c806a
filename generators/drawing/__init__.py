"""Drawing for the preview illustrations (``storyreel.generators.preview_image``).

- ``canvas``: the scene's light (:class:`~storyreel.generators.drawing.canvas.Look`) and the
  :class:`~storyreel.generators.drawing.canvas.Painter`, which draws shaded shapes in frame fractions;
- ``settings``: the nineteen setting painters, far to near, each returning a ``Stage``;
- ``characters``: the species drawings and :func:`~storyreel.generators.drawing.characters.paint_characters`;
- ``styles``: the drawing styles (watercolour, crayon, pencil, paper cut-out, flat vector, night-light pastel),
  read from the style's words and applied to the painted page.
"""
