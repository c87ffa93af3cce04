//! Learning-rate schedules: constant, and cosine annealing with warm restarts (SGDR,
//! Loshchilov & Hutter 2017, as PyTorch's `CosineAnnealingWarmRestarts`).
//!
//! With cycle `i` of length `T_i = T0 * Tmult^i` and `T_cur` the time since its start,
//! `lr = eta_min + (lr_max - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`. Time is counted in
//! epochs; `schedule.step = "step"` advances it by `1 / steps_per_epoch` per mini-batch, so the
//! restarts fall on the same epochs either way.

use crate::spec::{LrSchedule, ScheduleSection};

/// The learning rate as a function of (fractional) epochs since the start of training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearningRate {
    kind: LrSchedule,
    lr_max: f64,
    eta_min: f64,
    t0: f64,
    t_mult: f64,
}

impl LearningRate {
    /// The schedule `section` describes (assumed checked: `t0 >= 1`, `t_mult >= 1`).
    pub fn new(section: &ScheduleSection) -> Self {
        LearningRate {
            kind: section.lr_schedule,
            lr_max: section.lr,
            eta_min: section.eta_min,
            t0: section.t0 as f64,
            t_mult: section.t_mult as f64,
        }
    }

    /// The learning rate after `epochs` epochs (`0.0` is the first step).
    pub fn at(&self, epochs: f64) -> f64 {
        match self.kind {
            LrSchedule::Constant => self.lr_max,
            LrSchedule::CosineWarmRestarts => {
                let (t_cur, t_i) = self.position_in_cycle(epochs);
                let cosine = (1.0 + (std::f64::consts::PI * t_cur / t_i).cos()) / 2.0;
                self.eta_min + (self.lr_max - self.eta_min) * cosine
            }
        }
    }

    /// `(T_cur, T_i)`: time into the current cycle and that cycle's length. Walking the cycles
    /// (rather than PyTorch's logarithm) keeps restart points exact in floating point.
    fn position_in_cycle(&self, epochs: f64) -> (f64, f64) {
        let mut t_cur = epochs.max(0.0);
        let mut t_i = self.t0;
        while t_cur >= t_i {
            t_cur -= t_i;
            t_i *= self.t_mult;
        }
        (t_cur, t_i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(t0: usize, t_mult: usize) -> LearningRate {
        LearningRate::new(&ScheduleSection {
            lr: 1e-3,
            eta_min: 1e-5,
            t0,
            t_mult,
            ..ScheduleSection::default()
        })
    }

    /// The closed form, written out independently of the implementation's cycle walk.
    fn closed_form(epoch: f64, t0: f64, t_mult: f64) -> f64 {
        let (t_cur, t_i) = if t_mult == 1.0 {
            (epoch % t0, t0)
        } else {
            let n = ((epoch / t0) * (t_mult - 1.0) + 1.0).log(t_mult).floor();
            let start = t0 * (t_mult.powf(n) - 1.0) / (t_mult - 1.0);
            (epoch - start, t0 * t_mult.powf(n))
        };
        1e-5 + (1e-3 - 1e-5) * (1.0 + (std::f64::consts::PI * t_cur / t_i).cos()) / 2.0
    }

    #[test]
    fn cosine_with_restarts_matches_the_closed_form() {
        for (t0, t_mult) in [(10, 2), (10, 1), (3, 3)] {
            let schedule = cosine(t0, t_mult);
            for step in 0..400 {
                let epoch = step as f64 * 0.25;
                let expected = closed_form(epoch, t0 as f64, t_mult as f64);
                let got = schedule.at(epoch);
                assert!(
                    (got - expected).abs() < 1e-12,
                    "t0 {t0} tmult {t_mult} epoch {epoch}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn t_mult_2_restarts_at_10_30_70() {
        let schedule = cosine(10, 2);
        for restart in [0.0, 10.0, 30.0, 70.0] {
            assert_eq!(schedule.at(restart), 1e-3, "restart at {restart}");
        }
        // Just before a restart the rate is near the floor; halfway it is the midpoint.
        assert!(schedule.at(29.999) < 1.1e-5);
        assert!((schedule.at(5.0) - (1e-3 + 1e-5) / 2.0).abs() < 1e-15);
        assert!((schedule.at(20.0) - (1e-3 + 1e-5) / 2.0).abs() < 1e-15);
        assert!((schedule.at(50.0) - (1e-3 + 1e-5) / 2.0).abs() < 1e-15);
        // Epoch 9 of the first cycle: cos(0.9 pi).
        let expected = 1e-5 + (1e-3 - 1e-5) * (1.0 + (0.9 * std::f64::consts::PI).cos()) / 2.0;
        assert!((schedule.at(9.0) - expected).abs() < 1e-15);
    }

    #[test]
    fn constant_schedule_never_changes() {
        let schedule = LearningRate::new(&ScheduleSection {
            lr_schedule: LrSchedule::Constant,
            ..ScheduleSection::default()
        });
        assert!(
            [0.0, 3.5, 10.0, 59.0]
                .iter()
                .all(|&e| schedule.at(e) == 1e-3)
        );
    }

    /// Why `eta_min == lr` is accepted by the settings' rules: the cosine schedule then is the
    /// constant one, bit for bit.
    #[test]
    fn cosine_with_its_floor_at_lr_is_the_constant_schedule() {
        let at = |lr_schedule| {
            let schedule = LearningRate::new(&ScheduleSection {
                lr_schedule,
                lr: 3e-4,
                eta_min: 3e-4,
                ..ScheduleSection::default()
            });
            (0..300)
                .map(|step| schedule.at(step as f64 * 0.3).to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(LrSchedule::CosineWarmRestarts), at(LrSchedule::Constant));
    }
}
