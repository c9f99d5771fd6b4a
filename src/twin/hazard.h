// Hazard classification of flood results, as on German heavy-rain hazard maps
// (Starkregengefahrenkarten: depth bands 0.1-0.3, 0.3-0.5, 0.5-1, > 1 m) and the depth x velocity
// hazard rating of Defra/EA FD2320/TR2 (2006): HR = d (v + 0.5) + DF.
#pragma once

namespace allmende::twin {

// 0: < 0.1 m, 1: 0.1-0.3, 2: 0.3-0.5, 3: 0.5-1, 4: > 1 m (lower bound inclusive).
int depthClass(double depthM);

// FD2320 hazard rating with debris factor DF = 0 for d <= 0.25 m, else `debrisFactor`
// (FD2320 suggests 0.5 to 1 depending on land use; 0.5 by default).
double hazardRating(double depthM, double speedMs, double debrisFactor = 0.5);
// 0: HR < 0.75 (low), 1: < 1.25 (danger for some), 2: < 2.0 (danger for most), 3: >= 2 (for all).
// Cells shallower than 1 cm are class 0.
int hazardRatingClass(double depthM, double speedMs, double debrisFactor = 0.5);

}  // namespace allmende::twin
