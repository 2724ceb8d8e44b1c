#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace dte {
namespace {

TEST(MappedFileTest, WriteAtomicallyThenMap) {
  const std::string path = ::testing::TempDir() + "/mapped_file_test.bin";
  const std::string text = "Deep Tree Echo";
  ASSERT_TRUE(WriteFileAtomically(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}).ok());
  auto f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*f)->data()), (*f)->size()), text);
  EXPECT_EQ((*f)->path(), path);
  EXPECT_EQ(*ReadFileToString(path), text);
  std::filesystem::remove(path);
}

TEST(MappedFileTest, EmptyFileMapsToNothing) {
  const std::string path = ::testing::TempDir() + "/mapped_file_empty.bin";
  ASSERT_TRUE(WriteFileAtomically(path, {}).ok());
  auto f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->size(), 0u);
  std::filesystem::remove(path);
}

TEST(MappedFileTest, ErrorsNameThePath) {
  auto missing = MappedFile::Open("/nonexistent/dir/file.bin");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/file.bin"), std::string::npos);
  auto dir = MappedFile::Open(::testing::TempDir());
  EXPECT_FALSE(dir.ok());
  EXPECT_FALSE(WriteFileAtomically("/nonexistent/dir/out.bin", {}).ok());
}

}  // namespace
}  // namespace dte
