#include "common/status.h"

#include <gtest/gtest.h>

namespace allmende {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(s.toString(), "OK");
}

TEST(StatusTest, CarriesTypeTitleDetail) {
  Status s = badRequestData("no id");
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.type(), ErrorType::kBadRequestData);
  EXPECT_EQ(s.detail(), "no id");
  EXPECT_EQ(s.title(), "Bad request data");
  EXPECT_EQ(problemTypeUri(s.type()), "https://uri.etsi.org/ngsi-ld/errors/BadRequestData");
  EXPECT_EQ(httpStatusOf(s.type()), 400);
}

TEST(StatusTest, HttpStatusesFollowTheSpec) {
  EXPECT_EQ(httpStatusOf(ErrorType::kAlreadyExists), 409);
  EXPECT_EQ(httpStatusOf(ErrorType::kResourceNotFound), 404);
  EXPECT_EQ(httpStatusOf(ErrorType::kOperationNotSupported), 422);
  EXPECT_EQ(httpStatusOf(ErrorType::kLdContextNotAvailable), 503);
  EXPECT_EQ(httpStatusOf(ErrorType::kTooManyResults), 403);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(5);
  ASSERT_TRUE(good.isOk());
  EXPECT_EQ(*good, 5);
  Result<int> bad(notFound("x"));
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().type(), ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace allmende
