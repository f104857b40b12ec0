// safe_off_s in closed form. With cooling off and no defrost, ambient T_amb and infiltration held,
// the deviations x = T - T_amb of the air and product nodes obey the linear system x' = A x with
//   A = [[-(a+b)/C_a, b/C_a], [b/C_p, -b/C_p]],  a = UA_amb*k_inf, b = UA_ap,
// whose eigenvalues are real and negative (det = ab/(C_a C_p) > 0, discriminant >= 0). So
//   x_a(t) = c1 e^{l1 t} + c2 e^{l2 t},  c1 + c2 = x_a(0),  l1 c1 + l2 c2 = x_a'(0),
// a sum of two exponentials with at most one extremum. The first crossing of the limit therefore
// lies in [0, t_ext] or [t_ext, cap], on a monotone piece, where a safeguarded Newton iteration
// converges in a handful of steps.
#include <algorithm>
#include <cmath>

#include "nemesyst/refrigeration/simulator.h"

namespace nemesyst::refrigeration {

double SafeOffSeconds(const CaseParams& p, double air_c, double product_c, double ambient_c,
                      double k_inf, double cap_s) {
  if (air_c >= p.limit_c) return 0.0;
  const double a = p.ua_ambient_w_per_k * k_inf, b = p.ua_air_product_w_per_k;
  const double a11 = -(a + b) / p.air_capacity_j_per_k, a12 = b / p.air_capacity_j_per_k;
  const double a21 = b / p.product_capacity_j_per_k, a22 = -b / p.product_capacity_j_per_k;
  const double half_trace = 0.5 * (a11 + a22);
  const double root = std::sqrt(std::max(0.0, 0.25 * (a11 - a22) * (a11 - a22) + a12 * a21));
  const double l1 = half_trace + root, l2 = half_trace - root;  // l2 < l1 < 0
  const double xa = air_c - ambient_c, xp = product_c - ambient_c;
  const double slope = a11 * xa + a12 * xp;
  const double c1 = root > 0 ? (slope - l2 * xa) / (l1 - l2) : xa;
  const double c2 = xa - c1;
  const double target = p.limit_c - ambient_c;
  auto f = [&](double t) { return c1 * std::exp(l1 * t) + c2 * std::exp(l2 * t) - target; };
  auto df = [&](double t) { return c1 * l1 * std::exp(l1 * t) + c2 * l2 * std::exp(l2 * t); };

  // Bracket the first crossing: f(0) < 0 here.
  double lo = 0.0, hi = -1.0;
  const double ratio = (c1 * l1 != 0.0) ? -(c2 * l2) / (c1 * l1) : -1.0;
  if (ratio > 0.0 && root > 0.0) {
    const double t_ext = std::log(ratio) / (l1 - l2);
    if (t_ext > 0.0 && t_ext < cap_s && f(t_ext) >= 0.0)
      hi = t_ext;
    else if (t_ext > 0.0 && t_ext < cap_s)
      lo = t_ext;
  }
  if (hi < 0.0) {
    if (f(cap_s) < 0.0) return cap_s;
    hi = cap_s;
  }
  // Safeguarded Newton on the monotone piece [lo, hi] with f(lo) < 0 <= f(hi).
  double t = 0.5 * (lo + hi);
  for (int iter = 0; iter < 60; ++iter) {
    const double value = f(t);
    if (value < 0)
      lo = t;
    else
      hi = t;
    if (hi - lo < 0.01) break;
    const double d = df(t);
    double next = d != 0.0 ? t - value / d : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - t) < 0.005) {
      t = next;
      break;
    }
    t = next;
  }
  return std::clamp(t, 0.0, cap_s);
}

}  // namespace nemesyst::refrigeration
