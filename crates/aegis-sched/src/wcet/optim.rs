//! Small numerical tools for maximum-likelihood fitting: a derivative-free minimiser
//! (Nelder–Mead with restarts), a central-difference Hessian, a symmetric positive-definite
//! inverse and bisection.
//!
//! Owns only numerics on `f64` vectors of dimension 0 to 3. It must not know what a
//! distribution, a sample or a nanosecond is. Non-finite objective values are treated as
//! `+inf` (outside the feasible region), so an objective can express constraints by
//! returning `f64::INFINITY`.

/// Options of [`nelder_mead`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct NmOptions {
    /// Evaluation budget over all restarts.
    pub(crate) max_evals: usize,
    /// Stop when the spread of the simplex's values is below `f_tol * (1 + |f_best|)`.
    pub(crate) f_tol: f64,
    /// ... and the simplex's largest coordinate spread is below `x_tol`.
    pub(crate) x_tol: f64,
    /// Restarts from the best point with a fresh simplex (guards against a collapsed simplex).
    pub(crate) restarts: usize,
}

impl Default for NmOptions {
    fn default() -> Self {
        NmOptions { max_evals: 4000, f_tol: 1e-11, x_tol: 1e-7, restarts: 3 }
    }
}

/// The result of [`nelder_mead`].
#[derive(Clone, Debug)]
pub(crate) struct NmResult {
    /// The best point found.
    pub(crate) x: Vec<f64>,
    /// The objective at `x` (`+inf` when no feasible point was found).
    pub(crate) f: f64,
    /// Whether the tolerances were met before the budget ran out.
    pub(crate) converged: bool,
}

fn finite_or_inf(v: f64) -> f64 {
    if v.is_finite() { v } else { f64::INFINITY }
}

/// Minimises `f` from `x0` with initial simplex steps `step` (one per coordinate).
///
/// Standard Nelder–Mead (reflection 1, expansion 2, contraction 1/2, shrink 1/2), restarted
/// from the best point until a restart no longer improves by more than `f_tol`. A zero-dimension
/// problem is evaluated once.
pub(crate) fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    step: &[f64],
    opts: NmOptions,
) -> NmResult {
    let n = x0.len();
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        finite_or_inf(f(x))
    };
    if n == 0 {
        let v = eval(x0, &mut evals);
        return NmResult { x: Vec::new(), f: v, converged: v.is_finite() };
    }
    let mut best_x = x0.to_vec();
    let mut best_f = eval(x0, &mut evals);
    let mut converged = false;
    for restart in 0..=opts.restarts {
        let scale = if restart == 0 { 1.0 } else { 0.5 };
        let (x, fx, conv) = nm_run(&mut eval, &best_x, step, scale, opts, &mut evals);
        let improved = best_f - fx;
        let old_best = best_f;
        if fx <= best_f {
            best_x = x;
            best_f = fx;
        }
        converged = conv;
        let small = improved.abs() <= opts.f_tol * (1.0 + old_best.abs().min(best_f.abs()));
        if restart > 0 && conv && (small || !improved.is_finite()) {
            break;
        }
        if evals >= opts.max_evals {
            break;
        }
    }
    NmResult { x: best_x, f: best_f, converged: converged && best_f.is_finite() }
}

fn nm_run<E: FnMut(&[f64], &mut usize) -> f64>(
    eval: &mut E,
    start: &[f64],
    step: &[f64],
    scale: f64,
    opts: NmOptions,
    evals: &mut usize,
) -> (Vec<f64>, f64, bool) {
    let n = start.len();
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    pts.push(start.to_vec());
    for i in 0..n {
        let mut p = start.to_vec();
        let h = step.get(i).copied().unwrap_or(0.1) * scale;
        p[i] += if h == 0.0 { 0.1 } else { h };
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| eval(p, evals)).collect();
    let mut converged = false;
    while *evals < opts.max_evals {
        // Order: best first.
        let mut idx: Vec<usize> = (0..=n).collect();
        idx.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        pts = idx.iter().map(|&i| pts[i].clone()).collect();
        vals = idx.iter().map(|&i| vals[i]).collect();
        let (fb, fw) = (vals[0], vals[n]);
        let spread_x = (1..=n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| (pts[i][j] - pts[0][j]).abs())
            .fold(0.0, f64::max);
        if fw.is_finite() && fw - fb <= opts.f_tol * (1.0 + fb.abs()) && spread_x <= opts.x_tol {
            converged = true;
            break;
        }
        let mut centroid = vec![0.0; n];
        for p in &pts[..n] {
            for (c, v) in centroid.iter_mut().zip(p) {
                *c += v / n as f64;
            }
        }
        let along = |t: f64| -> Vec<f64> {
            centroid.iter().zip(&pts[n]).map(|(c, w)| c + t * (w - c)).collect()
        };
        let xr = along(-1.0);
        let fr = eval(&xr, evals);
        if fr < vals[0] {
            let xe = along(-2.0);
            let fe = eval(&xe, evals);
            if fe < fr {
                pts[n] = xe;
                vals[n] = fe;
            } else {
                pts[n] = xr;
                vals[n] = fr;
            }
            continue;
        }
        if fr < vals[n - 1] {
            pts[n] = xr;
            vals[n] = fr;
            continue;
        }
        let (xc, fc) = if fr < vals[n] {
            let xc = along(-0.5);
            let fc = eval(&xc, evals);
            (xc, fc)
        } else {
            let xc = along(0.5);
            let fc = eval(&xc, evals);
            (xc, fc)
        };
        if fc < vals[n].min(fr) {
            pts[n] = xc;
            vals[n] = fc;
            continue;
        }
        // Shrink towards the best point.
        for i in 1..=n {
            let p: Vec<f64> = pts[0].iter().zip(&pts[i]).map(|(b, x)| b + 0.5 * (x - b)).collect();
            vals[i] = eval(&p, evals);
            pts[i] = p;
        }
    }
    let bi = (0..=n).min_by(|&a, &b| vals[a].total_cmp(&vals[b])).unwrap_or(0);
    (pts[bi].clone(), vals[bi], converged)
}

/// Central-difference Hessian of `f` at `x` with per-coordinate steps `h`.
///
/// Returns `None` when any evaluation is not finite.
pub(crate) fn hessian<F: Fn(&[f64]) -> f64>(f: F, x: &[f64], h: &[f64]) -> Option<Vec<Vec<f64>>> {
    let n = x.len();
    let f0 = f(x);
    if !f0.is_finite() {
        return None;
    }
    let at = |di: &[(usize, f64)]| {
        let mut p = x.to_vec();
        for &(i, d) in di {
            p[i] += d;
        }
        f(&p)
    };
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        let (fp, fm) = (at(&[(i, h[i])]), at(&[(i, -h[i])]));
        m[i][i] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let v = (at(&[(i, h[i]), (j, h[j])])
                - at(&[(i, h[i]), (j, -h[j])])
                - at(&[(i, -h[i]), (j, h[j])])
                + at(&[(i, -h[i]), (j, -h[j])]))
                / (4.0 * h[i] * h[j]);
            m[i][j] = v;
            m[j][i] = v;
        }
    }
    m.iter().flatten().all(|v| v.is_finite()).then_some(m)
}

/// Inverse of a symmetric positive-definite matrix by Cholesky; `None` if it is not positive
/// definite (numerically).
#[allow(clippy::needless_range_loop)] // index form mirrors the textbook recurrences
pub(crate) fn spd_inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d.is_nan() || d <= 0.0 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    // Invert L (lower triangular), then A^-1 = L^-T L^-1.
    let mut li = vec![vec![0.0; n]; n];
    for i in 0..n {
        li[i][i] = 1.0 / l[i][i];
        for j in 0..i {
            let s: f64 = (j..i).map(|k| l[i][k] * li[k][j]).sum();
            li[i][j] = -s / l[i][i];
        }
    }
    let mut inv = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            inv[i][j] = (i.max(j)..n).map(|k| li[k][i] * li[k][j]).sum();
        }
    }
    inv.iter().flatten().all(|v| v.is_finite()).then_some(inv)
}

/// Finds a sign change of `g` in `[lo, hi]` by bisection, given `g(lo) < 0 <= g(hi)`;
/// stops when the bracket is narrower than `tol`. Returns the upper end of the final bracket
/// (the side where `g >= 0`), which is the conservative end for an upper confidence bound.
pub(crate) fn bisect_upper<G: FnMut(f64) -> f64>(
    mut g: G,
    mut lo: f64,
    mut hi: f64,
    tol: f64,
) -> f64 {
    for _ in 0..200 {
        if hi - lo <= tol {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if g(mid) >= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock_and_a_quadratic() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let r = nelder_mead(rosen, &[-1.2, 1.0], &[0.5, 0.5], NmOptions::default());
        assert!(r.converged);
        assert!((r.x[0] - 1.0).abs() < 1e-4 && (r.x[1] - 1.0).abs() < 1e-4, "{:?}", r.x);
        let quad = |x: &[f64]| (x[0] - 3.0).powi(2) + 2.0 * (x[1] + 1.0).powi(2) + x[2].powi(2);
        let r = nelder_mead(quad, &[0.0, 0.0, 0.0], &[1.0, 1.0, 1.0], NmOptions::default());
        assert!((r.x[0] - 3.0).abs() < 1e-5 && (r.x[1] + 1.0).abs() < 1e-5 && r.x[2].abs() < 1e-5);
    }

    #[test]
    fn infeasible_region_is_avoided_and_zero_dim_is_evaluated() {
        // Minimum of (x-2)^2 subject to x <= 1 (returns +inf beyond): converges to the edge.
        let f = |x: &[f64]| if x[0] > 1.0 { f64::NAN } else { (x[0] - 2.0).powi(2) };
        let r = nelder_mead(f, &[0.0], &[0.3], NmOptions::default());
        assert!(r.x[0] <= 1.0 && r.x[0] > 0.999, "{:?}", r.x);
        let r = nelder_mead(|_| 7.0, &[], &[], NmOptions::default());
        assert_eq!(r.f, 7.0);
        let r = nelder_mead(|_| f64::INFINITY, &[1.0], &[1.0], NmOptions::default());
        assert!(!r.converged);
    }

    #[test]
    fn hessian_and_inverse_of_a_known_quadratic() {
        // f = x^T A x / 2 with A = [[4,1],[1,3]]: Hessian A, inverse 1/11 [[3,-1],[-1,4]].
        let f = |x: &[f64]| 0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]);
        let h = hessian(f, &[0.3, -0.2], &[1e-3, 1e-3]).unwrap();
        assert!((h[0][0] - 4.0).abs() < 1e-6 && (h[0][1] - 1.0).abs() < 1e-6);
        let inv = spd_inverse(&h).unwrap();
        assert!((inv[0][0] - 3.0 / 11.0).abs() < 1e-6);
        assert!((inv[0][1] + 1.0 / 11.0).abs() < 1e-6);
        assert!((inv[1][1] - 4.0 / 11.0).abs() < 1e-6);
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
        assert!(hessian(|_| f64::NAN, &[0.0], &[1e-3]).is_none());
    }

    #[test]
    fn bisection_returns_the_upper_end() {
        let r = bisect_upper(|x| x - 2.0_f64.sqrt(), 0.0, 4.0, 1e-12);
        assert!(r >= 2.0_f64.sqrt() && r - 2.0_f64.sqrt() < 1e-11);
    }
}
