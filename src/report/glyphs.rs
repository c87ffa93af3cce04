//! PNG text with glyphs where the font puts them. plotters 0.3.7's `ab_glyph` renderer draws
//! each glyph's outline at the pen position, ignoring the glyph's left side bearing
//! (`px_bounds().min.x`), so a wide-bearing glyph such as `+` lands too far left and leaves a
//! gap after it ("audio+ lyrics"). [`GlyphExactBitmap`] wraps the bitmap backend and draws
//! text itself, with the same layout box, anchors and rotation as plotters, so only the
//! horizontal placement of each glyph changes. SVG is unaffected (the viewer lays text out).

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// The bitmap backend with [`DrawingBackend::draw_text`] replaced; every other call is passed
/// through unchanged.
pub struct GlyphExactBitmap<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> GlyphExactBitmap<'a> {
    /// Wraps `inner`; text is drawn with `font` (the one registered for the figures).
    pub fn new(inner: BitMapBackend<'a>, font: FontRef<'static>) -> Self {
        GlyphExactBitmap { inner, font }
    }

    /// Calls `pixel(x, y, coverage)` for every inked pixel of `text` at `size`, with the pen
    /// starting at x = 0 and plotters' vertical placement (baseline at half the size below the
    /// glyph tops' reference).
    fn rasterize(&self, text: &str, size: f32, mut pixel: impl FnMut(i32, i32, f32)) {
        let font = self.font.as_scaled(size);
        let mut pen = 0.0f32;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern(previous, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(font.scale(), point(pen, 0.0));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let (x0, y0) = (bounds.min.x as i32, (size / 2.0 + bounds.min.y) as i32);
                outline.draw(|x, y, coverage| pixel(x0 + x as i32, y0 + y as i32, coverage));
            }
            pen += font.h_advance(id);
        }
    }
}

impl DrawingBackend for GlyphExactBitmap<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// plotters' default `draw_text` (layout box, anchor, rotation, clipping) with
    /// [`Self::rasterize`] in place of the font's own drawing.
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let mut pixels = Vec::new();
        self.rasterize(text, style.size() as f32, |x, y, coverage| {
            let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                pixels.push(((x, y), color.mix(f64::from(coverage))));
            }
        });
        pixels
            .into_iter()
            .try_for_each(|(at, color)| self.inner.draw_pixel(at, color))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;
    use plotters::style::TextStyle;

    const SIZE: f64 = 48.0;
    const AT: (i32, i32) = (10, 10);

    fn font() -> FontRef<'static> {
        let bytes = crate::report::plots::ensure_font().expect("a font (scripts/setup.sh)");
        FontRef::try_from_slice(bytes).unwrap()
    }

    /// Where each glyph's ink starts by the font's metrics: pen position (advances and
    /// kerning, as plotters lays text out) plus the glyph's left side bearing.
    fn expected_ink_starts(text: &str) -> Vec<f32> {
        let font = font();
        let font = font.as_scaled(SIZE as f32);
        let (mut pen, mut previous, mut starts) = (0.0, None, Vec::new());
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern(previous, id);
            }
            previous = Some(id);
            starts.push(AT.0 as f32 + pen + font.h_side_bearing(id));
            pen += font.h_advance(id);
        }
        starts
    }

    /// First column of each run of inked columns in an RGB buffer `width` wide.
    fn ink_run_starts(buffer: &[u8], width: usize) -> Vec<f32> {
        let inked: Vec<bool> = (0..width)
            .map(|x| {
                buffer
                    .chunks(3)
                    .skip(x)
                    .step_by(width)
                    .any(|px| px[0] < 160)
            })
            .collect();
        (0..width)
            .filter(|&x| inked[x] && (x == 0 || !inked[x - 1]))
            .map(|x| x as f32)
            .collect()
    }

    fn draw<B: DrawingBackend>(backend: &mut B, text: &str) {
        let style = TextStyle::from((crate::report::plots::FONT, SIZE).into_font()).color(&BLACK);
        backend.draw_text(text, &style, AT).unwrap();
    }

    const TEXT: &str = "o+l";
    const WIDTH: usize = 200;

    /// Ink run starts of [`TEXT`] drawn by the wrapper (`exact`) or by plotters itself.
    fn render(exact: bool) -> Vec<f32> {
        let mut buffer = vec![255u8; WIDTH * 80 * 3];
        {
            let mut bitmap = BitMapBackend::with_buffer(&mut buffer, (WIDTH as u32, 80));
            if exact {
                draw(&mut GlyphExactBitmap::new(bitmap, font()), TEXT);
            } else {
                draw(&mut bitmap, TEXT);
            }
        }
        ink_run_starts(&buffer, WIDTH)
    }

    #[test]
    fn glyph_ink_starts_where_the_font_metrics_put_it() {
        let want = expected_ink_starts(TEXT);
        let got = render(true);
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1.0, "ink at {got:?}, metrics say {want:?}");
        }
    }

    /// The reason this module exists; when a plotters release fixes its placement, this fails
    /// and the wrapper can go.
    #[test]
    fn plotters_own_renderer_still_ignores_the_side_bearing() {
        let want = expected_ink_starts(TEXT);
        let got = render(false);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f32::max);
        assert!(worst > 2.0, "plotters placed glyphs within {worst} px");
    }
}
